import ArgumentParser
import ConvLensAnalysis
import ConvLensGraph

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the models in the registry by family: name, parameters, default input, one sentence.",
        discussion: "Families come in the order the field met them. `--family resnet` shows one family (case-insensitive; a prefix such as `regnet` or `efficientnet` takes every family it starts). `--flat` prints one line per model with its family, no headings.")

    @Option(help: ArgumentHelp("Only the families whose name starts with this (case-insensitive).", valueName: "name")) var family: String?
    @Flag(help: "One line per model (with its family), no family headings.") var flat = false

    func run() throws {
        try reportingErrors {
            let wanted = family.map { $0.lowercased().replacingOccurrences(of: "_", with: " ") }
            let names = Registry.names.filter { n in
                guard let wanted else { return true }
                let f = Registry.family(n).lowercased()
                return f.hasPrefix(wanted) || f.replacingOccurrences(of: " ", with: "").hasPrefix(wanted.replacingOccurrences(of: " ", with: ""))
            }
            guard !names.isEmpty else {
                let known = Registry.familyOrder.joined(separator: ", ")
                throw ListError("no family starts with '\(family ?? "")' (families: \(known))")
            }
            var rows: [(family: String, cells: [String])] = []
            for (name, g) in zip(names, try Registry.graphs(names)) {
                let about = g.source.metaValue("about")?.stringValue ?? ""
                rows.append((Registry.family(name), [name, groupedDigits(g.parameterCount), g.inputShape.map(String.init).joined(separator: "x"), about]))
            }
            let w0 = rows.map { $0.cells[0].count }.max() ?? 0
            let w1 = rows.map { $0.cells[1].count }.max() ?? 0
            let w2 = rows.map { $0.cells[2].count }.max() ?? 0
            let wf = rows.map { $0.family.count }.max() ?? 0
            var current: String? = nil
            for (f, r) in rows {
                let line = r[0].padding(toLength: w0, withPad: " ", startingAt: 0) + "  "
                    + String(repeating: " ", count: w1 - r[1].count) + r[1] + " params  "
                    + r[2].padding(toLength: w2, withPad: " ", startingAt: 0) + "  " + r[3]
                if flat {
                    print(f.padding(toLength: wf, withPad: " ", startingAt: 0) + "  " + line)
                    continue
                }
                if f != current {
                    let count = rows.filter { $0.family == f }.count
                    print((current == nil ? "" : "\n") + "\(f.isEmpty ? "(no family)" : f) (\(count))")
                    current = f
                }
                print("  " + line)
            }
        }
    }
}

struct ListError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
