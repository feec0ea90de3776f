import ArgumentParser
import ConvLensDiagram
import Foundation

struct DiagramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagram",
        abstract: "Draw the architecture (SVG, PNG, PDF or DOT) with shapes, parameters and MACs in every node.")

    @OptionGroup var options: ModelOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write.", valueName: "file"))
    var output: String

    // Strings, not enums: a bad value is one line and exit code 1, like every other ConvLens error.
    @Option(help: ArgumentHelp("svg, png, pdf or dot (default: from the output file's extension).", valueName: "format"))
    var format: String?

    @Option(help: ArgumentHelp("Draw modules down to depth N, as torchinfo counts it (1 = top-level children such as layer1); a container at depth N becomes one node with its totals. Default: full depth, one node per call.", valueName: "N"))
    var depth: String?

    @Option(help: ArgumentHelp("Layout direction: TB (top to bottom) or LR (left to right).", valueName: "TB|LR"))
    var rankdir: String = "TB"

    @Option(help: ArgumentHelp("eval or train: train also draws the auxiliary heads.", valueName: "mode"))
    var mode: String = "eval"

    func run() throws {
        try reportingErrors {
            let format = try Diagram.format(format, for: output)
            let options = try diagramOptions()
            let warnings = try Diagram.write(try self.options.graph(), options: options, format: format, to: output)
            for w in warnings { FileHandle.standardError.write(Data("convlens: graphviz: \(w)\n".utf8)) }
            print("wrote \(output) (\(format.rawValue))")
        }
    }

    func diagramOptions() throws(DiagramError) -> DiagramOptions {
        var d = DiagramOptions()
        if let depth {
            guard let n = Int(depth), n >= 1 else {
                throw DiagramError("--depth expects a whole number of at least 1 (1 = top-level children), got '\(depth)'")
            }
            d.depth = n
        }
        guard let r = DiagramOptions.RankDir(rawValue: rankdir.uppercased()) else {
            throw DiagramError("--rankdir expects TB or LR, got '\(rankdir)'")
        }
        d.rankdir = r
        switch mode.lowercased() {
        case "eval": d.training = false
        case "train": d.training = true
        default: throw DiagramError("--mode expects eval or train, got '\(mode)'")
        }
        return d
    }
}
