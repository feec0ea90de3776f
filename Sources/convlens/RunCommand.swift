import ArgumentParser
import ConvLensEngine
import ConvLensGraph
import Foundation

/// `convlens run`: forward (and backward, with a target) on a safetensors input; writes safetensors.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model forward (and backward when IN has a target) and write logits, loss and gradients.",
        discussion: """
        IN holds `input` (float32 N×C×H×W) and optionally `target` (int64 class indices). OUT gets `logits`; \
        with a target `loss` [1], `grad.input` and `grad.NAME` per parameter; in train mode `running.NAME` \
        per batch-norm running statistic and `aux_logits.HEAD` per auxiliary head (loss = main + w·Σ aux, w the zoo \
        file's `train aux_loss_weight`: 0.3 GoogLeNet, 0.4 Inception3; 0.3 without the line).
        """)

    @Argument(help: "A registry model (see `convlens list`) or a path to a zoo file.")
    var model: String

    @Option(help: ArgumentHelp("A safetensors file with the model's state_dict (torch's keys); an ONNX model uses its own weights without it.", valueName: "file"))
    var weights: String?

    @Option(name: .customLong("init"), help: ArgumentHelp("Initialise instead of loading: hash or default.", valueName: "hash|default"))
    var initKind: String?

    @Option(help: ArgumentHelp("Input safetensors: `input` (f32 NCHW), optional `target` (i64).", valueName: "IN.safetensors"))
    var input: String

    @Option(help: ArgumentHelp("eval or train (PyTorch's modes).", valueName: "eval|train"))
    var mode: String = "eval"

    @Option(help: ArgumentHelp("Output safetensors file (written atomically).", valueName: "OUT.safetensors"))
    var output: String

    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a model argument, e.g. --arg num_classes=10 (repeatable).", valueName: "name=value"))
    var arguments: [String] = []

    @Option(help: "Seed for dropout masks (train mode) and --init default.")
    var seed: UInt64 = 0

    func run() throws {
        try reportingErrors {
            let source: WeightSource
            switch (weights, initKind) {
            case (let w?, nil): source = .file(w)
            case (nil, "hash"): source = .hash
            case (nil, "default"): source = .defaultInit(seed: seed)
            case (nil, let k?): throw EngineError("--init expects hash or default, got '\(k)'")
            case (nil, nil) where Registry.isONNX(model): source = .modelFile
            case (nil, nil): throw EngineError("give --weights FILE or --init hash|default")
            default: throw EngineError("give either --weights or --init, not both")
            }
            guard mode == "eval" || mode == "train" else { throw EngineError("--mode expects eval or train, got '\(mode)'") }
            let s = try RunModel.run(model: model, arguments: arguments, weights: source, inputPath: input,
                                     training: mode == "train", outputPath: output, dropoutSeed: seed)
            var line = "\(model) \(mode): logits \(s.logitsShape.map(String.init).joined(separator: "×"))"
            if let l = s.loss { line += ", loss \(String(format: "%.6f", l))" }
            print(line + " → \(output) (\(s.written.count) tensors)")
        }
    }
}
