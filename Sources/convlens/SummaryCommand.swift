import ArgumentParser
import ConvLensAnalysis
import ConvLensGraph

/// `convlens summary MODEL`: torchinfo's table, byte for byte at the default columns.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "A torchinfo-style summary table (same rows, totals and memory lines as torchinfo.summary).")

    @OptionGroup var options: ModelOptions

    @Option(help: "Nesting depth shown (torchinfo's depth).")
    var depth: Int = 3

    @Option(help: ArgumentHelp("Comma-separated columns: \(SummaryColumn.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "list"))
    var columns: String = "output,params"

    @Option(help: "text, json, csv or markdown.")
    var format: TableFormat = .text

    func validate() throws {
        guard depth >= 0 else { throw ValidationError("--depth must be ≥ 0, got \(depth)") }
    }

    func run() throws {
        try reportingErrors {
            var chosen: [SummaryColumn] = []
            for name in columns.split(separator: ",") {
                let n = name.trimmingCharacters(in: .whitespaces).lowercased()
                guard let c = SummaryColumn(rawValue: n) else {
                    throw ZooError(.badArgument, "--columns: unknown column '\(n)' (known: \(SummaryColumn.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                chosen.append(c)
            }
            guard depth >= 0 else { throw ZooError(.badArgument, "--depth must be 0 or more, got \(depth)") }
            let summary = Summary(try Analyzer.analyze(try options.graph()))
            print(summary.render(format, depth: depth, columns: chosen), terminator: "")
        }
    }
}
