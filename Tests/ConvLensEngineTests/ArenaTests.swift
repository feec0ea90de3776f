import ConvLensGraph
import Testing
@testable import ConvLensEngine

/// The engine's arena (`StoragePool`): every pass's tensors come from recycled blocks once a
/// shape has run, and recycling changes no number — recycled blocks hold the last step's values,
/// so a kernel that relied on fresh (zeroed) memory would show here as steps that differ.
struct ArenaTests {
    @Test(arguments: [("resnet18", [2, 3, 32, 32]), ("mobilenet_v2", [2, 3, 32, 32]), ("densenet121", [2, 3, 32, 32]),
                      ("shufflenet_v2_x0_5", [2, 3, 32, 32]), ("efficientnet_b0", [2, 3, 32, 32]), ("convnext_tiny", [2, 3, 32, 32]),
                      ("googlenet", [2, 3, 64, 64])])
    func recycledStepsMatchFreshOnes(_ c: (String, [Int])) throws {
        let graph = try Registry.graph(c.0, arguments: c.0 == "googlenet" ? ["dropout=0", "dropout_aux=0"] : [], input: c.1)
        let pooled = try Engine(graph: graph, weights: Verify.weights(graph))
        let fresh = try Engine(graph: graph, weights: Verify.weights(graph))
        fresh.recyclesActivations = false
        let x = HashInit.input(shape: c.1)
        let targets = HashInit.target(count: c.1[0], classes: graph.nodes[graph.output].outputShape[1])
        func step(_ e: Engine, training: Bool) throws -> [[Float]] {
            let logits = try e.forward(x, training: training).values
            let (loss, _, d, aux) = try e.crossEntropy(targets: targets)
            e.zeroGradients()
            let dx = try e.backward(d, auxGradients: aux, inputGradient: true)
            return [logits, [Float(loss)], dx.values] + e.parameterKeys.map { e.gradients[$0]!.values }
        }
        for training in [false, true] {
            // Train mode moves the running statistics; both engines move theirs the same way.
            var misses: [Int] = []
            for s in 0..<3 {
                let want = try step(fresh, training: training)
                let got = try step(pooled, training: training)
                #expect(got == want, "\(c.0): step \(s) (training \(training)) with recycled storage differs from fresh storage")
                misses.append(pooled.pool.misses)
            }
            #expect(misses[2] == misses[1], "\(c.0): the third step (training \(training)) still allocated \(misses[2] - misses[1]) blocks")
            let inference = try fresh.forward(x, training: false, retainForBackward: false).values
            #expect(try pooled.forward(x, training: false, retainForBackward: false).values == inference, "\(c.0): fast path")
        }
    }

    /// Blocks nothing asks for during a whole step are freed at the next boundary.
    @Test func idleBlocksAreFreed() {
        let pool = StoragePool()
        pool.with { _ = TensorStorage(count: 1000) }
        #expect(pool.idleBytes == 4000)
        pool.endStep()
        #expect(pool.idleBytes == 4000, "a block given back in this step is kept for the next")
        pool.with { _ = TensorStorage(count: 1000) }     // taken and given back: kept
        pool.endStep()
        #expect(pool.idleBytes == 4000 && pool.misses == 1)
        pool.endStep()
        pool.endStep()
        #expect(pool.idleBytes == 0)
    }
}
