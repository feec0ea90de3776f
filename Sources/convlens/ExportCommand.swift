import ArgumentParser
import ConvLensEngine
import ConvLensGraph
import ConvLensTrain
import Foundation

/// `convlens export`: hands a zoo model to another framework. One case per target format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a model to another framework: PyTorch code (model.py, a DistributedDataParallel train.py) or an ONNX file.",
        discussion: """
        --format pytorch writes DIR/model.py (plain PyTorch: one nn.Module class per zoo class and block, state_dict \
        keys equal to ConvLens's, build(**params) taking the zoo file's params), DIR/train.py (the zoo file's recipe \
        as a DistributedDataParallel program writing `convlens train`'s run folder), DIR/README.md, and \
        DIR/weights.safetensors with --weights or --init. An existing DIR is replaced only with --force.

        --format onnx writes one ONNX file (opset 18, eval mode, batch norms kept as BatchNormalization): node names \
        are the module paths, initializers the state_dict under torch's names (from --weights or --init; an ONNX MODEL \
        keeps its own by default), value_info every intermediate shape, and each node the dynamo exporter's \
        name_scopes/class_hierarchy metadata, so `convlens print OUT.onnx` gives the model back. --netron FILE.json also \
        writes Netron's attachment file (open it in Netron after the model): each node's output shape, parameters, \
        MACs and receptive field. --input fixes the input shape. Existing files are replaced only with --force.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case pytorch, onnx
    }

    @Argument(help: "A registry model (see `convlens list`), a path to a zoo file or an ONNX file.") var model: String
    @Option(help: "The target: pytorch or onnx.") var format: Format
    @Option(help: ArgumentHelp("The folder to write (pytorch) or the .onnx file (onnx).", valueName: "DIR|OUT.onnx")) var output: String
    @Option(help: ArgumentHelp("A safetensors file with the model's state_dict, written as DIR/weights.safetensors.", valueName: "file")) var weights: String?
    @Option(name: .customLong("init"), help: ArgumentHelp("Initialise DIR/weights.safetensors instead: hash or default.", valueName: "hash|default")) var initKind: String?
    @Option(help: "Seed for --init default.") var seed: UInt64 = 1
    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a model argument, e.g. --arg num_classes=10 (repeatable).", valueName: "name=value")) var arguments: [String] = []
    @Option(help: ArgumentHelp("Input shape N×C×H×W (onnx; default: the model's).", valueName: "NxCxHxW")) var input: String?
    @Option(help: ArgumentHelp("Also write Netron's attachment JSON (onnx).", valueName: "FILE.json")) var netron: String?
    @Flag(help: "Replace DIR (or OUT.onnx) if it exists.") var force = false

    func run() throws {
        try reportingErrors {
            let source: WeightSource?
            switch (weights, initKind) {
            case (let w?, nil): source = .file(w)
            case (nil, "hash"): source = .hash
            case (nil, "default"): source = .defaultInit(seed: seed)
            case (nil, let k?): throw EngineError("--init expects hash or default, got '\(k)'")
            case (nil, nil): source = nil
            default: throw EngineError("give either --weights or --init, not both")
            }
            switch format {
            case .onnx:
                let shape = try input.map { s throws in try Registry.parseShape(s) }
                let r = try ONNXExport.write(model: model, arguments: arguments, input: shape, weights: source, output: output, netron: netron, force: force)
                print("\(model) → \(r.path): \(r.nodes) nodes, \(r.initializers) initializers, opset \(ONNXExport.opset)" + (r.netron.map { "; Netron attachment \($0)" } ?? ""))
            case .pytorch:
                if input != nil || netron != nil { throw EngineError("--input and --netron apply to --format onnx") }
                let r = try PyTorchExport.write(model: model, arguments: arguments, weights: source, output: output, force: force)
                print("\(model) → \(r.directory): \(r.files.joined(separator: ", "))")
            }
        }
    }
}
