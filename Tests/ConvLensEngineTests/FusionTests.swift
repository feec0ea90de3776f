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

/// Convolutions computed a band of output rows at a time (`tileRows`, large feature maps) or
/// several images per GEMM (`imagesPerGEMM`, small ones) agree with one whole-image GEMM, for
/// strides, padding, dilation, groups and rectangular kernels, forward and backward.
struct ConvTilingTests {
    @Test(arguments: [
        (Conv2d(inChannels: 3, outChannels: 5, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1]), [2, 3, 11, 9]),
        (Conv2d(inChannels: 4, outChannels: 6, kernelSize: [3, 3], stride: [2, 2], padding: [1, 1]), [3, 4, 13, 12]),
        (Conv2d(inChannels: 4, outChannels: 4, kernelSize: [1, 7], stride: [1, 1], padding: [0, 3]), [2, 4, 9, 10]),
        (Conv2d(inChannels: 2, outChannels: 3, kernelSize: [3, 3], stride: [1, 1], padding: [2, 2], dilation: [2, 2]), [2, 2, 10, 10]),
        (Conv2d(inChannels: 4, outChannels: 6, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], groups: 2), [2, 4, 8, 8]),
    ])
    func tiledEqualsWhole(_ c: (Conv2d, [Int])) throws {
        let (layer, shape) = c
        let out = try layer.outputShape([shape])
        var whole = ConvGeometry(input: shape, output: out, layer: layer)
        whole.tileRows = whole.oh; whole.imagesPerGEMM = 1
        var variants: [ConvGeometry] = []
        for t in [1, 2, 3] { var g = whole; g.tileRows = t; variants.append(g) }
        if layer.groups == 1 { var g = whole; g.imagesPerGEMM = 2; variants.append(g) }
        var rng = RandomSource(seed: 7)
        func random(_ s: [Int]) -> Tensor { let t = Tensor(zeros: s); for i in 0..<t.count { t[i] = Float(rng.normal()) }; return t }
        let x = random(shape), w = random(layer.parameters[0].shape), b = random([layer.outChannels]), dy = random(out)
        func run(_ g: ConvGeometry) -> (Tensor, Tensor, Tensor, Tensor) {
            let y = Tensor(zeros: out), dx = Tensor(zeros: shape), dw = Tensor(zeros: w.shape), db = Tensor(zeros: b.shape)
            let col = Tensor(zeros: [max(g.colCount, 1)])
            conv2dForward(y.data, x.data, w.data, b.data, g, col: col.data)
            conv2dBackward(dx.data, dw.data, db.data, dy.data, x.data, w.data, g, col: col.data)
            return (y, dx, dw, db)
        }
        let want = run(whole)
        for g in variants {
            let got = run(g)
            for (name, a, e) in [("y", got.0, want.0), ("dx", got.1, want.1), ("dw", got.2, want.2), ("db", got.3, want.3)] {
                let err = relativeError(a, e)
                #expect(err < 1e-5, "\(name) with tileRows \(g.tileRows), imagesPerGEMM \(g.imagesPerGEMM): \(err)")
            }
        }
    }
}
