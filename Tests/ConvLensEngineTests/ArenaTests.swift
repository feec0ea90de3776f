import ConvLensGraph
import Testing
@testable import ConvLensEngine

/// The engine's arena (`Arena`): every pass's large tensors live in a slab planned from the first
/// step of a shape, and that changes no number — slab ranges hold earlier tensors' values, so a
/// kernel that relied on fresh (zeroed) memory would show here as steps that differ.
struct ArenaTests {
    @Test(arguments: [("resnet18", [2, 3, 32, 32]), ("mobilenet_v2", [2, 3, 32, 32]), ("densenet121", [2, 3, 32, 32]),
                      ("shufflenet_v2_x0_5", [2, 3, 32, 32]), ("efficientnet_b0", [2, 3, 32, 32]), ("convnext_tiny", [2, 3, 32, 32]),
                      ("googlenet", [2, 3, 64, 64])])
    func recycledStepsMatchFreshOnes(_ c: (String, [Int])) throws {
        let graph = try Registry.graph(c.0, arguments: c.0 == "googlenet" ? ["dropout=0", "dropout_aux=0"] : [], input: c.1)
        let pooled = try Engine(graph: graph, weights: Verify.weights(graph))
        let fresh = try Engine(graph: graph, weights: Verify.weights(graph))
        fresh.usesArena = false
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
                #expect(got == want, "\(c.0): step \(s) (training \(training)) in the arena differs from fresh storage")
                misses.append(pooled.arena.misses)
            }
            #expect(misses[2] == misses[1], "\(c.0): the third step (training \(training)) still allocated \(misses[2] - misses[1]) blocks")
            let inference = try fresh.forward(x, training: false, retainForBackward: false).values
            #expect(try pooled.forward(x, training: false, retainForBackward: false).values == inference, "\(c.0): fast path")
        }
    }

    /// Greedy by size: a tensor born after another died takes its place; one alive beside it goes after it.
    @Test func placementReusesDeadRanges() {
        var t = Arena.Trace()
        t.sizes = [160, 48, 160, 32]
        t.born = [0, 1, 3, 4]
        t.died = [3, 2, 5, .max]
        let (offsets, floats) = Arena.place(t)
        #expect(offsets == [0, 160, 0, 160])
        #expect(floats == 208)
    }

    /// The second step of a pattern lives in the slab; a tensor kept across steps keeps its memory
    /// (the next step's tensor in that slot is a malloc), and a step that does not follow the plan
    /// leads to a new one.
    @Test func stepsFollowThePlan() {
        let arena = Arena()
        let n = Arena.smallest
        func step() -> [TensorStorage] {
            arena.endStep()
            return arena.with {
                let a = TensorStorage(count: n, zeroed: false)
                var b: TensorStorage? = TensorStorage(count: 2 * n)
                b = nil
                let c = TensorStorage(count: 2 * n)       // born after b died: b's range
                _ = b
                return [a, c]
            }
        }
        _ = step()
        #expect(arena.misses == 3 && arena.plans == 0)
        var kept = step()
        #expect(arena.misses == 3 && arena.plans == 1 && arena.slabBytes == 4 * 3 * n, "the second step lives in the slab")
        kept[0].pointer.update(repeating: 7, count: n)
        let held = kept[0]
        kept = []
        kept = step()                                     // `held` is still alive: its slot's range is taken
        #expect(arena.misses == 4 && arena.plans == 1)
        #expect(kept[0].pointer != held.pointer && held.pointer[n - 1] == 7)
        kept = []
        arena.endStep()
        _ = arena.with { TensorStorage(count: 5 * n) }    // a different pattern
        _ = step()
        #expect(arena.plans == 2, "a step off the plan is planned anew")
        _ = held
    }
}
