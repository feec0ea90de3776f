import ArgumentParser
import ConvLensAnalysis
import ConvLensExplain
import ConvLensGraph

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show every number of a layer with the formula that gives it, or run the classic worked examples.",
        discussion: "Layers are torch module paths (features.0, layer1.0.conv1) or containers (layer1.0). With --examples, runs the textbook convolution and pooling examples through the engine's kernels and checks each answer.")

    @Argument(help: "A registry model or a zoo file, then optional layer names.")
    var modelAndLayers: [String] = []

    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a model argument (repeatable).", valueName: "name=value"))
    var arguments: [String] = []

    @Option(name: .customLong("input"), help: ArgumentHelp("Input shape N×C×H×W.", valueName: "NxCxHxW"))
    var input: String?

    @Flag(help: "Run the classic worked examples on the engine and check their answers.")
    var examples = false

    func run() throws {
        try reportingErrors {
            if examples {
                let report = Examples.runAll()
                print(report.text, terminator: "")
                if !report.passed { throw ExitCode(1) }
                return
            }
            guard let model = modelAndLayers.first else {
                throw ValidationError("give a MODEL (and optional layer names), or --examples")
            }
            let shape: [Int]? = try input.map { s throws(ZooError) in try Registry.parseShape(s) }
            let g = try Registry.graph(model, arguments: arguments, input: shape)
            let a = try Analyzer.analyze(g)
            print(Explain.text(try Explain.entries(a, names: Array(modelAndLayers.dropFirst()))), terminator: "")
        }
    }
}
