import ArgumentParser
import ConvLensAnalysis
import ConvLensGraph

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the models in the registry: name, parameters, default input, one sentence.")

    func run() throws {
        try reportingErrors {
            var rows: [[String]] = []
            for name in Registry.names {
                let g = try Registry.graph(name)
                let about = g.source.metaValue("about")?.stringValue ?? ""
                rows.append([name, groupedDigits(g.parameterCount), g.inputShape.map(String.init).joined(separator: "x"), about])
            }
            let w0 = rows.map { $0[0].count }.max() ?? 0
            let w1 = rows.map { $0[1].count }.max() ?? 0
            let w2 = rows.map { $0[2].count }.max() ?? 0
            for r in rows {
                print(r[0].padding(toLength: w0, withPad: " ", startingAt: 0) + "  "
                      + String(repeating: " ", count: w1 - r[1].count) + r[1] + " params  "
                      + r[2].padding(toLength: w2, withPad: " ", startingAt: 0) + "  " + r[3])
            }
        }
    }
}
