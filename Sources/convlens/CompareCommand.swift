import ArgumentParser
import ConvLensAnalysis
import ConvLensGraph
import ConvLensReport
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare models: parameters, MACs, FLOPs, memory, receptive field, depth, published and measured accuracy.")

    @Argument(help: "Models to compare (default: the whole registry).") var models: [String] = []
    @Option(name: .customLong("input"), help: ArgumentHelp("Input shape for every model (default: each model's own).", valueName: "NxCxHxW")) var input: String?
    @Flag(help: "Also measure forward latency per image on this machine (engine, batch 1 and 8).") var measure = false
    @Option(help: "text, json, csv or markdown.") var format: TableFormat = .text
    @Option(help: "Also write the accuracy-vs-compute scatter plot (SVG) here.") var plot: String?
    @Option(help: "Where training runs are read from.") var runs: String = "reports/runs"

    func run() throws {
        try reportingErrors {
            let shape: [Int]? = try input.map { s throws(ZooError) in try Registry.parseShape(s) }
            let rows = try Compare.rows(models: models.isEmpty ? Registry.names : models, input: shape, runsDirectory: runs, measure: measure)
            if let plot {
                guard plot.lowercased().hasSuffix(".svg") else { throw ValidationError("--plot writes SVG: give a .svg path") }
                try Report.writeFile(Array(ComparePlot.svg(rows).utf8), to: plot)
            }
            print(try Compare.render(rows, format: format), terminator: "")
        }
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Regenerate reports/: per model repr, summary, analysis and diagrams; the comparison table and plot; an index.")

    @Option(help: "Output folder.") var output: String = "reports"

    func run() throws {
        try reportingErrors {
            try Report.generate(into: output, runsDirectory: (output as NSString).appendingPathComponent("runs")) { msg in
                FileHandle.standardError.write(Data((msg + "\n").utf8))
            }
        }
    }
}
