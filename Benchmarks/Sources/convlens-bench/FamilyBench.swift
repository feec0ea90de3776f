import ConvLensEngine
import ConvLensGraph
import Foundation

// The later families' engine targets (issue: the engine runs and trains every family): inference
// images/s and a training step against PyTorch with the same threads, on the same random inputs'
// shapes, torchvision's default initialisation on both sides.

/// Eval-mode forward of a registry model at batch × 3 × size × size: images/s (the mean of three
/// passes after two), and PyTorch's the same way.
func modelInferenceBench(_ model: String, batch: Int, size: Int) -> Bench {
    Bench(name: "engine-\(model)-infer", summary: "\(model) b\(batch)@\(size) eval ≥ 1.0× PyTorch images/s") {
        let g = try Registry.graph(model, input: [batch, 3, size, size])
        let e = try Engine(graph: g, weights: .defaultInit(seed: 1))
        let x = HashInit.input(shape: g.inputShape)
        let t = try seconds(warmup: 2, runs: 3) { _ = try e.forward(x, training: false, retainForBackward: false) }
        var out = [("images/s", Double(batch) / t)]
        if let m = torchMetrics("model-infer", model, "\(batch)", "\(size)") { out += m }
        return out
    }
}

/// A training step (forward, loss, backward; no optimizer) at batch × 3 × size × size, 10 classes:
/// images/s (the mean of three steps after two; PyTorch's after two, one of them profiled) and the tensor memory above weights and gradients, and PyTorch's. The memory is the
/// peak, over the first step and the timed ones, of all tensor storage the engine holds — its
/// arena's idle blocks included — above what it held before the first step.
func modelTrainBench(_ model: String, batch: Int, size: Int) -> Bench {
    Bench(name: "engine-\(model)-train", summary: "\(model) b\(batch)@\(size) train step ≥ 1.0× PyTorch images/s, peak memory ≤ PyTorch") {
        let g = try Registry.graph(model, arguments: ["num_classes=10"], input: [batch, 3, size, size])
        let e = try Engine(graph: g, weights: .defaultInit(seed: 1))
        let x = HashInit.input(shape: g.inputShape)
        let target = HashInit.target(count: batch, classes: 10)
        func step() throws {
            _ = try e.forward(x, training: true)
            let (_, _, d, aux) = try e.crossEntropy(targets: target)
            try e.backward(d, auxGradients: aux, inputGradient: false)
        }
        let base = TensorMemory.liveBytes
        TensorMemory.resetPeak()
        let t = try seconds(warmup: 2, runs: 3) { try step() }
        var out = [("images/s", Double(batch) / t), ("peak MB above weights+grads", Double(TensorMemory.peakBytes - base) / 1e6)]
        if let m = torchMetrics("model-train", model, "\(batch)", "\(size)") { out += m }
        return out
    }
}

let familyBenches: [Bench] = [
    modelInferenceBench("mobilenet_v2", batch: 8, size: 224),
    modelTrainBench("mobilenet_v2", batch: 32, size: 64),
    modelInferenceBench("efficientnet_b0", batch: 8, size: 224),
]
