import ArgumentParser
import ConvLensAnalysis
import ConvLensGraph

extension AnalysisMode: ExpressibleByArgument {}
extension FlopConvention: ExpressibleByArgument {}
extension TableFormat: ExpressibleByArgument {}

/// `convlens analyze MODEL`: every node and container with shapes, parameters, MACs, FLOPs,
/// receptive field and memory, plus totals.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Per-layer shapes, parameters, MACs/FLOPs, receptive fields and memory.",
        discussion: "Conventions: convlens (2 FLOPs per MAC plus element ops), or torchinfo, fvcore, thop, ptflops to reproduce that tool's count.")

    @OptionGroup var options: ModelOptions

    @Option(help: "eval (auxiliary heads skipped) or train (auxiliary heads included).")
    var mode: AnalysisMode = .eval

    @Option(help: "Whose rules the FLOPs column follows: \(FlopConvention.allCases.map(\.rawValue).joined(separator: ", ")).")
    var convention: FlopConvention = .convlens

    @Option(help: "text, json, csv or markdown.")
    var format: TableFormat = .text

    func run() throws {
        try reportingErrors {
            let analysis = try Analyzer.analyze(try options.graph(), mode: mode, convention: convention)
            print(analysis.render(format), terminator: "")
        }
    }
}
