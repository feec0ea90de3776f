import ConvLensGraph
import Testing
@testable import ConvLensEngine

/// The engine's execution fusions (ReLU folded into the max pool after it; gradients passed in
/// place through elementwise nodes) change no number: a fused and an unfused engine give the same
/// logits, loss, input and parameter gradients, in train and eval mode.
struct FusionTests {
    @Test(arguments: [("convnet", [4, 1, 28, 28]), ("lenet5", [3, 1, 32, 32]), ("resnet18", [2, 3, 40, 40])])
    func fusedEqualsUnfused(_ c: (String, [Int])) throws {
        let graph = try Registry.graph(c.0, input: c.1)
        let fused = try Engine(graph: graph, weights: Verify.weights(graph))
        let plain = try Engine(graph: graph, weights: Verify.weights(graph), fuse: false)
        #expect(fused.plan.contains { $0.poolAppliesRelu }, "\(c.0) has a ReLU → max pool pair to fuse")
        #expect(!plain.plan.contains { $0.poolAppliesRelu || $0.reluFusedIntoPool })
        // Inputs shifted negative too, so some pooling windows are all ≤ 0 after the ReLU.
        let x = HashInit.input(shape: c.1)
        for i in 0..<x.count where i % 3 == 0 { x[i] -= 1.5 }
        let targets = HashInit.target(count: c.1[0], classes: graph.nodes[graph.output].outputShape[1])
        for training in [true, false] {
            var results: [(Tensor, Double, Tensor, [String: Tensor])] = []
            for e in [fused, plain] {
                let logits = try e.forward(x, training: training).copy()
                let (loss, _, d, aux) = try e.crossEntropy(targets: targets)
                e.zeroGradients()
                let dx = try e.backward(d, auxGradients: aux, inputGradient: true)
                results.append((logits, loss, dx, e.gradients.mapValues { $0.copy() }))
            }
            let (a, b) = (results[0], results[1])
            #expect(a.0.values == b.0.values, "\(c.0) logits (training \(training))")
            #expect(a.1 == b.1)
            #expect(a.2.values == b.2.values, "\(c.0) input gradient (training \(training))")
            for k in fused.parameterKeys { #expect(a.3[k]!.values == b.3[k]!.values, "\(c.0) grad \(k)") }
        }
    }
}
