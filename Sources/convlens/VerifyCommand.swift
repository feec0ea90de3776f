import ArgumentParser
import ConvLensEngine
import ConvLensGraph
import Foundation

/// `convlens verify`: shapes, MACs and central-difference gradients on random data; exit 1 on failure.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the engine on a model: tensor shapes, kernel MACs vs the analyzer, central-difference gradients.")

    @OptionGroup var options: ModelOptions

    @Option(help: "Seed for the random weights, input and directions.")
    var seed: UInt64 = 1

    @Option(help: "Nodes checked per layer kind (spread first … last).")
    var nodesPerKind: Int = 2

    @Option(help: "Relative step of the train-mode whole-model central differences (eval mode uses 1e-1: it is affine there).")
    var step: Float = 1e-3

    func validate() throws {
        guard step.isFinite, step > 0, step < 1 else { throw ValidationError("--step must be a finite relative step between 0 and 1, got \(step)") }
        guard nodesPerKind >= 1 else { throw ValidationError("--nodes-per-kind must be at least 1, got \(nodesPerKind)") }
    }

    func run() throws {
        try reportingErrors {
            var graph = try options.graph()
            if options.input == nil {
                // Batch 4 by default: train-mode batch norm over 1×1 maps (Inception's aux head) then
                // normalises 4 values per channel, not a degenerate ±1 pair.
                graph = try Registry.graph(options.model, arguments: options.arguments, input: [4] + graph.inputShape.dropFirst())
            }
            let report = try Verify.run(graph: graph, seed: seed, nodesPerKind: nodesPerKind, step: step)
            print(report.table)
            if !report.passed { throw ExitCode(1) }
        }
    }
}
