import ConvLensAnalysis
import ConvLensGraph

/// `convlens explain`: every number of a node with the formula that gives it, the model's
/// numbers plugged in. The values printed come from the analysis (the same numbers `analyze`
/// shows); the formulas show where they come from, and the tests check the two agree.
public enum Explain {
    /// One explained node: a title and lines of `label  formula = value`.
    public struct Entry: Sendable {
        public var name: String
        /// The graph node explained.
        public var node: Int
        public var title: String
        public var lines: [(label: String, text: String)]
    }

    /// Explains the chosen nodes (all when `names` is empty). Names are graph node names
    /// (`features.0`, `layer1.0.add`) or container paths (`layer1.0` explains its calls).
    public static func entries(_ analysis: Analysis, names: [String] = []) throws(ZooError) -> [Entry] {
        let g = analysis.graph
        var chosen: [GraphNode] = []
        let executed = g.nodes.filter { analysis.rowOfNode[$0.index] != nil }
        if names.isEmpty {
            chosen = executed
        } else {
            for n in names {
                let hits = executed.filter { $0.name == n || $0.name.hasPrefix(n + ".") }
                guard !hits.isEmpty else {
                    let sample = executed.prefix(6).map(\.name).joined(separator: ", ")
                    throw ZooError(.unknownInput, "no layer named '\(n)' in \(g.name) (names are torch module paths, e.g. \(sample), …)")
                }
                chosen += hits.filter { h in !chosen.contains { $0.index == h.index } }
            }
        }
        return chosen.map { entry($0, analysis) }
    }

    public static func text(_ entries: [Entry]) -> String {
        var out = ""
        for e in entries {
            out += "\(e.name) — \(e.title)\n"
            let w = e.lines.map { $0.label.count }.max() ?? 0
            for l in e.lines { out += "  " + l.label.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + l.text + "\n" }
            out += "\n"
        }
        return out
    }

    static func entry(_ n: GraphNode, _ a: Analysis) -> Entry {
        let row = a.row(node: n.index)!
        let x = n.inputShapes.first ?? []
        let y = n.outputShape
        var lines: [(String, String)] = []
        lines.append(("shape", n.inputShapes.map(shape).joined(separator: " + ") + " → " + shape(y)))
        let title = n.kind == .module ? "\(n.layer.className)(\(n.spec.extraRepr))" : "\(callName(n))"
        // The kind's own formulas (its one home, Layers/ in ConvLensGraph).
        for f in n.spec.formulas(n.call(training: a.mode == .train)) { lines.append((f.label, f.text)) }
        let ops = n.spec.operations(n.call(training: a.mode == .train))
        if ops.flops > 0 && n.spec.macs(n.call(training: a.mode == .train)) == 0 {
            lines.append(("FLOPs", "\(num(ops.flops)) (ConvLens convention; no multiply-accumulates)"))
        }
        let rf = row.rf
        if x.count == 4 && y.count == 4 {
            if rf.constant {
                lines.append(("receptive field", "none: a parameter, independent of the input"))
            } else {
                lines.append(("receptive field", "\(rf.size[0])×\(rf.size[1]) input pixels, jump \(rf.jump[0])×\(rf.jump[1]), first centre (\(coord(rf.start[0])), \(coord(rf.start[1])))" + (rf.aligned ? "" : " — branches disagree: union shown")))
            }
            if let sp = row.spatialRF {
                lines.append(("spatial path", "\(sp.size[0])×\(sp.size[1]) input pixels without the global-context branch (pooled to 1×1 and multiplied back, as in squeeze-excitation), which lets every unit see the whole input"))
            }
        }
        lines.append(("output memory", "\(y.map(String.init).joined(separator: "·")) floats × 4 bytes = \(num(row.outputBytes)) bytes"))
        return Entry(name: n.name, node: n.index, title: title, lines: lines)
    }

    /// The functional call as a zoo file writes it: `F.relu`, `torch.cat(dim=1)`, `mul`.
    static func callName(_ n: GraphNode) -> String {
        let written = type(of: n.spec).functionNames.first ?? n.functionName
        let args = n.spec.extraRepr
        return args.isEmpty ? written : "\(written)(\(args))"
    }

    static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
    static func batch(_ n: Int) -> String { n == 1 ? "" : "\(n)·" }
    static func coord(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
    static func ratio(_ a: Int, _ b: Int) -> String {
        let r = Double(a) / Double(b)
        return r >= 10 ? "\(num(Int(r.rounded())))×" : String(format: "%.1f×", r)
    }

    public static func num(_ n: Int) -> String { groupedDigits(n) }
}

import Foundation
