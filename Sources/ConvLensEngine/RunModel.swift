import ConvLensGraph
import ConvLensONNX

/// `convlens run`: one forward (and, with a target, backward) pass on a safetensors input.
///
/// IN holds `input` (float32 NCHW) and optionally `target` (int64 class indices). OUT holds
/// `logits`; with a target also `loss` [1] (mean cross-entropy; in train mode with auxiliary heads
/// main + auxLossWeight·Σ aux, see `Engine.crossEntropy`), `grad.input` and `grad.NAME` for every
/// parameter; in train mode `running.NAME` for every batch-norm running statistic after the
/// forward pass, and `aux_logits.HEAD` for each auxiliary head that ran.
public enum RunModel {
    public struct Summary: Sendable {
        public var logitsShape: [Int]
        public var loss: Double?
        public var mainLoss: Double?
        public var written: [String]
    }

    public static func run(model: String, arguments: [String], weights: WeightSource, inputPath: String,
                           training: Bool, outputPath: String, dropoutSeed: UInt64 = 0) throws -> Summary {
        let inFile = try SafeTensors.read(inputPath)
        // An ONNX file names its input and output: IN
        // may hold the input under that name or as `input`; OUT gets the output under its name too.
        var onnxInput: String? = nil, onnxOutput: String? = nil
        if Registry.isONNX(model) {
            let m: ModelProto
            do { m = try ONNXFile.read(model) } catch { throw EngineError("\(error.file): \(error.message)") }
            let initializers = Set(m.graph.initializer.map(\.name))
            onnxInput = m.graph.input.first { !initializers.contains($0.name) }?.name
            onnxOutput = m.graph.output.count == 1 ? m.graph.output[0].name : nil
        }
        let key = onnxInput.flatMap { inFile[$0] == nil ? nil : $0 } ?? "input"
        guard let e = inFile[key] else { throw EngineError("\(inputPath): no tensor '\(onnxInput ?? "input")'\(onnxInput.map { $0 == "input" ? "" : " or 'input'" } ?? "") (float32 N×C×H×W)") }
        guard e.shape.count == 4 else { throw EngineError("\(inputPath): tensor '\(key)' has shape \(e.shape), expected N×C×H×W") }
        let input = try inFile.tensor(key)
        let target: [Int]? = inFile["target"] == nil ? nil : try inFile.integers("target")
        if let target, target.count != e.shape[0] {
            throw EngineError("\(inputPath): tensor 'target' has \(target.count) entries for a batch of \(e.shape[0])")
        }
        let graph = try Registry.graph(model, arguments: arguments, input: e.shape)
        let engine = try Engine(graph: graph, weights: weights, dropoutSeed: dropoutSeed)
        let logits = try engine.forward(input, training: training)
        var out = SafeTensors(file: outputPath)
        out.set("logits", logits)
        if let onnxOutput, onnxOutput != "logits" { out.set(onnxOutput, logits) }
        var summary = Summary(logitsShape: logits.shape, loss: nil, mainLoss: nil, written: [])
        if training {
            for (head, t) in engine.auxLogits { out.set("aux_logits.\(head)", t) }
            for k in engine.bufferKeys where k.hasSuffix("running_mean") || k.hasSuffix("running_var") {
                out.set("running.\(k)", engine.state[k]!)
            }
        }
        if let target {
            let (loss, main, dLogits, aux) = try engine.crossEntropy(targets: target)
            let gradInput = try engine.backward(dLogits, auxGradients: aux)
            out.set("loss", Tensor(shape: [1], values: [Float(loss)]))
            out.set("grad.input", gradInput)
            for k in engine.parameterKeys { out.set("grad.\(k)", engine.gradients[k]!) }
            summary.loss = loss; summary.mainLoss = main
        }
        try out.write(to: outputPath)
        summary.written = out.names
        return summary
    }
}
