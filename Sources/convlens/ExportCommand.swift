import ArgumentParser
import ConvLensEngine
import ConvLensTrain
import Foundation

/// `convlens export`: hands a zoo model to another framework. One case per target format.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a model as code for another framework (PyTorch: model.py, a DistributedDataParallel train.py).",
        discussion: """
        --format pytorch writes DIR/model.py (plain PyTorch: one nn.Module class per zoo class and block, state_dict \
        keys equal to ConvLens's, build(**params) taking the zoo file's params), DIR/train.py (the zoo file's recipe \
        as a DistributedDataParallel program writing `convlens train`'s run folder), DIR/README.md, and \
        DIR/weights.safetensors with --weights or --init. An existing DIR is replaced only with --force.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case pytorch
    }

    @Argument(help: "A registry model (see `convlens list`) or a path to a zoo file.") var model: String
    @Option(help: "The target: pytorch.") var format: Format
    @Option(help: ArgumentHelp("The folder to write.", valueName: "DIR")) var output: String
    @Option(help: ArgumentHelp("A safetensors file with the model's state_dict, written as DIR/weights.safetensors.", valueName: "file")) var weights: String?
    @Option(name: .customLong("init"), help: ArgumentHelp("Initialise DIR/weights.safetensors instead: hash or default.", valueName: "hash|default")) var initKind: String?
    @Option(help: "Seed for --init default.") var seed: UInt64 = 1
    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a model argument, e.g. --arg num_classes=10 (repeatable).", valueName: "name=value")) var arguments: [String] = []
    @Flag(help: "Replace DIR if it exists.") var force = false

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
            case .pytorch:
                let r = try PyTorchExport.write(model: model, arguments: arguments, weights: source, output: output, force: force)
                print("\(model) → \(r.directory): \(r.files.joined(separator: ", "))")
            }
        }
    }
}
