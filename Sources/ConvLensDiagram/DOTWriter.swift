import Foundation
import ConvLensGraph

/// Writes a `DiagramPlan` as DOT text: clusters for containers, HTML-like labels, a legend.
struct DOTWriter {
    let graph: ModelGraph
    let plan: DiagramPlan
    let options: DiagramOptions
    private var out: [String] = []

    init(graph: ModelGraph, plan: DiagramPlan, options: DiagramOptions) {
        self.graph = graph; self.plan = plan; self.options = options
    }

    /// A cluster and what it holds, in order of first appearance.
    private final class Cluster {
        let module: Int?
        var items: [Item] = []
        init(module: Int?) { self.module = module }
        enum Item { case box(Int), cluster(Cluster) }
        func child(_ m: Int) -> Cluster {
            for case .cluster(let c) in items where c.module == m { return c }
            let c = Cluster(module: m)
            items.append(.cluster(c))
            return c
        }
    }

    mutating func text() -> String {
        let s = DiagramStyle.self
        out = []
        let quotedName = graph.name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        out.append("digraph \"\(quotedName)\" {")
        out.append("  graph [rankdir=\(options.rankdir.rawValue), fontname=\"\(s.font)\", fontsize=16, labelloc=t, labeljust=l,")
        // Large graphs (DenseNet's all-to-all concatenations: thousands of edges) get a bounded
        // crossing-minimisation effort, so a full-depth DenseNet-201 lays out in seconds, not minutes.
        let effort = plan.edges.count > 600 ? " mclimit=0.3, remincross=false," : ""
        out.append("         nodesep=0.2, ranksep=0.2, pad=0.3, bgcolor=white, outputorder=edgesfirst, margin=0,\(effort)")
        out.append("         label=<\(heading())>];")
        out.append("  node [shape=box, style=\"rounded,filled\", fontname=\"\(s.font)\", fontsize=10, margin=\"0.1,0.04\", penwidth=0.8, color=\"#4d4d4d\"];")
        out.append("  edge [fontname=\"\(s.font)\", fontsize=8, fontcolor=\"#505050\", color=\"#606060\", arrowsize=0.6, penwidth=0.8];")

        let root = Cluster(module: nil)
        for (i, box) in plan.boxes.enumerated() {
            var c = root
            for m in box.clusters { c = c.child(m) }
            c.items.append(.box(i))
        }
        emit(root, indent: "  ")
        // Edges into a node with many inputs (a concatenation of every earlier feature map) carry no
        // shape label: the producers' boxes show their shapes, and labels would crowd the fan-in.
        var fanIn: [String: Int] = [:]
        for e in plan.edges { fanIn[e.to, default: 0] += 1 }
        for e in plan.edges {
            if fanIn[e.to, default: 0] > 4 { out.append("  \(e.from) -> \(e.to) [color=\"#9a9a9a\"];"); continue }
            out.append("  \(e.from) -> \(e.to) [label=\" \(s.shape(e.shape))\"];")
        }
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }

    private mutating func emit(_ cluster: Cluster, indent: String) {
        for item in cluster.items {
            switch item {
            case .box(let i):
                out.append(indent + node(plan.boxes[i]))
            case .cluster(let c):
                let m = graph.modules[c.module!]
                let fills = DiagramStyle.clusterFills
                let fill = fills[min(m.depth - 1, fills.count - 1)]
                out.append(indent + "subgraph cluster_m\(m.index) {")
                out.append(indent + "  graph [label=<<B>\(DiagramStyle.html(m.name))</B>  <FONT POINT-SIZE=\"9\">\(DiagramStyle.html(m.className))</FONT>>, style=\"rounded,filled\", fillcolor=\"\(fill)\", color=\"#9aa3ad\", fontsize=11, margin=8];")
                emit(c, indent: indent + "  ")
                out.append(indent + "}")
            }
        }
    }

    private func node(_ box: DiagramBox) -> String {
        let s = DiagramStyle.self
        var rows: [String] = []
        var attributes: [String] = []
        switch box.content {
        case .input:
            rows = ["<B>input</B>", s.shape(box.outputShape)]
            attributes = ["fillcolor=\"\(s.inputFill)\"", "shape=box", "style=\"filled,bold\""]
        case .call(let n):
            rows.append("<B>\(s.html(n.name))</B>")
            let type = n.kind == .module ? s.html(n.typeName) : "<I>\(s.html(n.typeName))()</I>"
            let args = s.arguments(n.layer)
            rows.append(args.isEmpty ? type : type + "  " + s.html(args))
            rows.append(outAndNumbers(box))
            attributes = ["fillcolor=\"\(s.fill(n.layer))\""]
        case .container(let m, let calls):
            rows.append("<B>\(s.html(m.path))</B>")
            rows.append(s.html(m.className) + "  <I>(\(calls.count) calls)</I>")
            rows.append(outAndNumbers(box, always: true))
            attributes = ["fillcolor=\"\(s.containerFill)\"", "shape=box3d", "style=filled"]
        }
        if box.id == plan.output || plan.auxOutputs.contains(box.id) { attributes.append("penwidth=2.2") }
        let table = "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">"
            + rows.map { "<TR><TD>\($0)</TD></TR>" }.joined() + "</TABLE>"
        return "\(box.id) [label=<\(table)>, \(attributes.joined(separator: ", "))];"
    }

    /// `→ 1×64×112×112 · 9,408 params · 118M MACs`; the numbers are left out when both are 0
    /// (ReLU, pooling, cat, add) unless `always`.
    private func outAndNumbers(_ box: DiagramBox, always: Bool = false) -> String {
        let s = DiagramStyle.self
        var text = "<FONT COLOR=\"#1f3f66\">→ \(s.shape(box.outputShape))</FONT>"
        if always || box.parameters > 0 || box.macs > 0 {
            text += "<FONT POINT-SIZE=\"9\">  ·  \(s.grouped(box.parameters)) params  ·  \(s.compact(box.macs)) MACs</FONT>"
        }
        return text
    }

    /// The graph label above the picture: the title line, then the legend (outside the layout,
    /// so it never pushes nodes apart). Graphviz widens the legend table to the title's width,
    /// spreading the swatches out; each stays left of its name.
    private func heading() -> String {
        var rows = ["<TR><TD ALIGN=\"LEFT\">\(title())</TD></TR>"]
        if options.legend {
            rows.append("<TR><TD ALIGN=\"LEFT\">\(legend())</TD></TR>")
            let note = ["node: name / type and arguments / → output shape · parameters · MACs (Conv2d and Linear multiply-accumulates)",
                        "edges: tensor shapes N×C×H×W · thick border: a model output"].map(DiagramStyle.html).joined(separator: "<BR ALIGN=\"LEFT\"/>")
            rows.append("<TR><TD ALIGN=\"LEFT\" BALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"#505050\">\(note)</FONT></TD></TR>")
        }
        return "<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\">" + rows.joined() + "</TABLE>"
    }

    private func title() -> String {
        let s = DiagramStyle.self
        let macs = plan.boxes.reduce(0) { $0 + $1.macs }
        let depth = options.depth.map { "depth \($0)" } ?? "full depth"
        let mode = options.training ? "train mode" : "eval mode"
        return "<B>\(s.html(graph.name))</B> (\(s.html(graph.className)))  ·  input \(s.shape(graph.inputShape))  ·  "
            + "\(s.grouped(graph.parameterCount)) parameters  ·  \(s.compact(macs)) MACs  ·  \(mode), \(depth)"
    }

    /// Colour swatches actually used (in one row: a wider table would be stretched to the title's width) and the collapsed-container symbol when present.
    private func legend() -> String {
        let s = DiagramStyle.self
        var used = Set<LayerCategory>()
        var collapsed = false
        for b in plan.boxes {
            switch b.content {
            case .call(let n): used.insert(n.layer.category)
            case .container: collapsed = true
            case .input: break
            }
        }
        var entries = LayerCategory.allCases.filter(used.contains).map { (s.swatch($0).fill, s.swatch($0).title) }
        if collapsed { entries.append((s.containerFill, "collapsed container (totals)")) }
        var rows: [String] = []
        for start in stride(from: 0, to: entries.count, by: 10) {
            let cells = entries[start..<min(start + 10, entries.count)].map { fill, title in
                "<TD BGCOLOR=\"\(fill)\" BORDER=\"1\" FIXEDSIZE=\"TRUE\" WIDTH=\"16\" HEIGHT=\"11\"></TD><TD ALIGN=\"LEFT\">\(s.html(title))</TD>"
            }
            rows.append("<TR>" + cells.joined() + "</TR>")
        }
        return "<FONT POINT-SIZE=\"10\"><TABLE ALIGN=\"LEFT\" BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"3\" CELLPADDING=\"1\">" + rows.joined() + "</TABLE></FONT>"
    }
}
