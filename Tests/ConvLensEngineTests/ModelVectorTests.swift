import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// Whole models against PyTorch (../shared/reference/vectors): logits within 1e-4, loss, input and
/// parameter gradients and running statistics within 1e-3, in eval and train mode.
struct ModelVectorTests {
    /// Builds the engine for a reference file: stored weights, or hash_init when the file has none.
    static func setUp(_ model: String) throws -> (SafeTensors, Engine, Tensor, [Int]) {
        let f = try SafeTensors.read(EnginePaths.vectors(model))
        let input = try f.tensor("input")
        let graph = try Registry.graph(model, input: input.shape)
        var weights: [String: Tensor] = [:]
        let stored = graph.stateDict().allSatisfy { f.entries[$0.key] != nil }
        for e in graph.stateDict() {
            if stored {
                weights[e.key] = e.localName == "num_batches_tracked" ? Tensor(shape: [], values: [Float(try f.integers(e.key)[0])]) : try f.tensor(e.key)
            } else {
                weights[e.key] = HashInit.tensor(e.key, shape: e.shape)
            }
        }
        return (f, try Engine(graph: graph, weights: weights), input, try f.integers("target"))
    }

    static func expectClose(_ got: Tensor, _ want: Tensor, _ tol: Double, _ what: String) {
        #expect(got.count == want.count, "\(what): \(got.shape) vs \(want.shape)")
        guard got.count == want.count else { return }
        let e = relativeError(got, want)
        #expect(e <= tol, "\(what): relative error \(e) > \(tol)")
    }

    @Test(arguments: ["convnet", "lenet5", "resnet18"])
    func evalMode(_ model: String) throws {
        let (f, engine, input, _) = try Self.setUp(model)
        let logits = try engine.forward(input, training: false)
        Self.expectClose(logits, try f.tensor("logits.eval"), 1e-4, "\(model) logits.eval")
    }

    @Test(arguments: ["convnet", "lenet5", "resnet18"])
    func trainMode(_ model: String) throws {
        let (f, engine, input, target) = try Self.setUp(model)
        let logits = try engine.forward(input, training: true)
        Self.expectClose(logits, try f.tensor("logits.train"), 1e-4, "\(model) logits.train")
        let (loss, _, dLogits, aux) = try engine.crossEntropy(targets: target)
        Self.expectClose(Tensor(shape: [1], values: [Float(loss)]), try f.tensor("loss.train"), 1e-3, "\(model) loss")
        let gradInput = try engine.backward(dLogits, auxGradients: aux)
        Self.expectClose(gradInput, try f.tensor("grad.input"), 1e-3, "\(model) grad.input")
        var checked = 0
        for name in f.names where name.hasPrefix("grad.") && name != "grad.input" {
            let key = String(name.dropFirst(5))
            let g = try #require(engine.gradients[key], "no gradient for \(key)")
            Self.expectClose(g, try f.tensor(name), 1e-3, "\(model) \(name)")
            checked += 1
        }
        #expect(checked >= 4)
        for name in f.names where name.hasPrefix("running.") {
            let key = String(name.dropFirst(8))
            Self.expectClose(try #require(engine.state[key]), try f.tensor(name), 1e-3, "\(model) \(name)")
        }
    }

    @Test func hashInitRebuildsTheStoredInput() throws {
        let f = try SafeTensors.read(EnginePaths.vectors("resnet18"))
        let stored = try f.tensor("input")
        #expect(relativeError(HashInit.input(shape: stored.shape), stored) == 0)
        #expect(HashInit.target(count: 2, classes: 1000) == (try f.integers("target")))
    }
}
