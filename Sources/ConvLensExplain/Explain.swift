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
        let title = n.kind == .module ? "\(n.layer.className)(\(n.layer.spec.extraRepr))" : "\(callName(n))"
        switch n.layer {
        case .conv2d(let c):
            for i in 0..<2 { lines.append((i == 0 ? "output height" : "output width", window(x[2 + i], k: c.kernelSize[i], s: c.stride[i], p: c.padding[i], d: c.dilation[i], ceil: false, out: y[2 + i]))) }
            let g = c.groups
            let w = "\(c.outChannels)·\(c.inChannels / g)·\(c.kernelSize[0])·\(c.kernelSize[1])"
            lines.append(("parameters", c.bias ? "\(w) + \(c.outChannels) = \(num(row.params))" : "\(w) = \(num(row.params))  (no bias)"))
            lines.append(("MACs", "\(batch(y[0]))\(c.outChannels)·\(y[2])·\(y[3]) outputs × \(c.inChannels / g)·\(c.kernelSize[0])·\(c.kernelSize[1]) = \(num(row.macs))"))
            let fcParams = x[1] * x[2] * x[3] * y[1] * y[2] * y[3]
            lines.append(("vs. linear", "a fully connected layer between the same shapes needs \(x[1])·\(x[2])·\(x[3])·\(y[1])·\(y[2])·\(y[3]) = \(num(fcParams)) weights (\(ratio(fcParams, max(row.params, 1))) this layer's)"))
        case .maxPool2d(let p):
            for i in 0..<2 { lines.append((i == 0 ? "output height" : "output width", window(x[2 + i], k: p.kernelSize[i], s: p.stride[i], p: p.padding[i], d: p.dilation[i], ceil: p.ceilMode, out: y[2 + i]))) }
            lines.append(("parameters", "none; max over each \(p.kernelSize[0])×\(p.kernelSize[1]) window, per channel"))
        case .avgPool2d(let p):
            for i in 0..<2 { lines.append((i == 0 ? "output height" : "output width", window(x[2 + i], k: p.kernelSize[i], s: p.stride[i], p: p.padding[i], d: 1, ceil: p.ceilMode, out: y[2 + i]))) }
            lines.append(("parameters", "none; mean over each \(p.kernelSize[0])×\(p.kernelSize[1]) window" + (p.countIncludePad && p.padding != [0, 0] ? ", padding zeros counted (count_include_pad=True)" : "")))
        case .adaptiveAvgPool2d(let p):
            for i in 0..<2 {
                let bins = AdaptiveAvgPool2d.bins(input: x[2 + i], output: p.outputSize[i])
                let shown = bins.prefix(8).map { "[\($0.0), \($0.1))" }.joined(separator: " ") + (bins.count > 8 ? " …" : "")
                lines.append((i == 0 ? "row bins" : "column bins", "bin i spans [⌊i·\(x[2 + i])/\(p.outputSize[i])⌋, ⌈(i+1)·\(x[2 + i])/\(p.outputSize[i])⌉): \(shown)"))
            }
        case .batchNorm2d(let b):
            lines.append(("computes", "y = (x − E[x]) / √(Var[x] + \(b.eps)) · γ + β per channel; eval uses running statistics, train the batch's (momentum \(b.momentum))"))
            lines.append(("parameters", "γ and β: 2·\(b.numFeatures) = \(num(row.params))"))
            lines.append(("buffers", "running_mean, running_var: 2·\(b.numFeatures), num_batches_tracked: 1 → \(num(row.buffers))"))
        case .linear(let l):
            lines.append(("parameters", l.bias ? "\(l.outFeatures)·\(l.inFeatures) + \(l.outFeatures) = \(num(row.params))" : "\(l.outFeatures)·\(l.inFeatures) = \(num(row.params))"))
            lines.append(("MACs", "\(batch(y[0]))\(l.outFeatures) outputs × \(l.inFeatures) inputs = \(num(row.macs))"))
        case .concat(let c):
            let d = c.dim < 0 ? c.dim + y.count : c.dim
            lines.append(("concat", "along dim \(c.dim): " + n.inputShapes.map { String($0[d]) }.joined(separator: " + ") + " = \(y[d])"))
        case .add:
            lines.append(("add", "element-wise sum of \(n.inputs.count) tensors of shape \(shape(y)): \(num(y.reduce(1, *))) additions"))
        case .flatten:
            lines.append(("flatten", x.count == 4 ? "\(x[1])·\(x[2])·\(x[3]) = \(y.last ?? 0) features per example" : shape(y)))
        case .relu:
            lines.append(("computes", "max(0, x), element-wise; shape unchanged"))
        case .dropout(let d):
            lines.append(("computes", "identity in eval; in train zeroes each element with probability \(d.p) and scales the rest by 1/(1 − p)"))
        case .identity:
            lines.append(("computes", "identity"))
        }
        let rf = row.rf
        if x.count == 4 && y.count == 4 {
            lines.append(("receptive field", "\(rf.size[0])×\(rf.size[1]) input pixels, jump \(rf.jump[0])×\(rf.jump[1]), first centre (\(coord(rf.start[0])), \(coord(rf.start[1])))" + (rf.aligned ? "" : " — branches disagree: union shown")))
        }
        lines.append(("output memory", "\(y.map(String.init).joined(separator: "·")) floats × 4 bytes = \(num(row.outputBytes)) bytes"))
        return Entry(name: n.name, node: n.index, title: title, lines: lines)
    }

    /// ⌊(n + 2p − d·(k−1) − 1)/s⌋ + 1, written the textbook way when d = 1: ⌊(n + 2p − k)/s⌋ + 1.
    static func window(_ n: Int, k: Int, s: Int, p: Int, d: Int, ceil: Bool, out: Int) -> String {
        let (l, r) = ceil ? ("⌈", "⌉") : ("⌊", "⌋")
        let inner = d == 1 ? "\(n) + 2·\(p) − \(k)" : "\(n) + 2·\(p) − \(d)·(\(k) − 1) − 1"
        let span = n + 2 * p - d * (k - 1) - 1
        let raw = (ceil ? (span + s - 1) / s : span / s) + 1
        var text = "\(l)(\(inner))/\(s)\(r) + 1 = \(raw)"
        if raw != out { text += " → \(out) (ceil_mode: the last window must start inside the input, (\(raw)−1)·\(s) ≥ \(n) + \(p))" }
        return text
    }

    static func callName(_ n: GraphNode) -> String {
        switch n.layer {
        case .relu: return "F.relu"
        case .concat(let c): return "torch.cat(dim=\(c.dim))"
        case .add: return "x + y"
        case .flatten(let f): return "torch.flatten(start_dim=\(f.startDim))"
        default: return "F.\(n.functionName)(\(n.layer.spec.extraRepr))"
        }
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
