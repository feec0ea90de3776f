import ArgumentParser
import ConvLensEngine
import ConvLensGraph
import Foundation

/// `convlens import FILE.onnx --output NAME.zoo`: the imported model as a zoo file a user can read,
/// edit and keep, and its weights as NAME.safetensors beside it (recovered state_dict names).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an ONNX file: write it as a zoo file and its weights as safetensors.",
        discussion: """
        Every command that takes MODEL also takes FILE.onnx directly; `import` keeps the result. \
        The weights go to the zoo file's name with .safetensors (run it with `--weights NAME.safetensors`).
        """)

    @Argument(help: "An ONNX file (weights inline or in an external data file beside it).")
    var file: String

    @Option(help: ArgumentHelp("The zoo file to write (NAME.zoo; the weights go to NAME.safetensors).", valueName: "NAME.zoo"))
    var output: String

    @Option(name: .customLong("input"), help: ArgumentHelp("Input shape N×C×H×W, for a file whose input has dynamic dimensions.", valueName: "NxCxHxW"))
    var input: String?

    func run() throws {
        try reportingErrors {
            guard output.hasSuffix(".zoo") else { throw ZooError(.badArgument, "--output expects a NAME.zoo path, got '\(output)'") }
            guard Registry.isONNX(file) else { throw ZooError(.badArgument, "'\(file)' is not an .onnx file") }
            let shape: [Int]? = try input.map { s throws(ZooError) in try Registry.parseShape(s) }
            let imported = try Registry.importONNX(file, input: shape)
            var zooText = imported.zooText, notes = imported.notes
            let plain = try ZooParser.parse(zooText, file: output)
            if let (name, recognised) = Registry.recognize(plain), let text = Registry.recognizedText(name, as: recognised, from: file) {
                zooText = text
                notes = recognised.meta.filter { $0.key.hasPrefix("import_note") }.compactMap { $0.value.stringValue }
            }
            let zoo = try ZooParser.parse(zooText, file: output)
            let graph = try GraphBuilder.build(zoo, overrides: [], input: nil)
            let weightsPath = String(output.dropLast(4)) + ".safetensors"
            var st = SafeTensors(file: weightsPath)
            for t in imported.tensors {
                if let v = t.int64s { st.set(t.name, int64: v, shape: t.dims) } else { st.set(t.name, Tensor(shape: t.dims, values: t.floats)) }
            }
            _ = try Engine(graph: graph, weights: try Engine.stateDict(st))   // the weights fit the model exactly
            try st.write(to: weightsPath)
            try AtomicFile.write(Array(zooText.utf8), to: output)
            for n in notes { FileHandle.standardError.write(Data("convlens: note: \(n)\n".utf8)) }
            print("\(file) → \(output) (\(graph.nodes.count) nodes), \(weightsPath) (\(st.names.count) tensors)")
        }
    }
}
