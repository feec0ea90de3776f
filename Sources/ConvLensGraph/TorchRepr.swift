/// `print(model)` as PyTorch writes it: `Module.__repr__` with `_addindent`.
public enum TorchRepr {
    public static func render(_ graph: ModelGraph) -> String {
        repr(graph, 0) + "\n"
    }

    static func repr(_ g: ModelGraph, _ i: Int) -> String {
        let m = g.modules[i]
        let extra = m.spec?.extraRepr ?? ""
        if m.children.isEmpty { return "\(m.className)(\(extra))" }
        var lines = ["\(m.className)("]
        if !extra.isEmpty { lines.append("  " + extra) }
        for c in m.children {
            let child = repr(g, c).replacingOccurrences(of: "\n", with: "\n  ")   // torch's _addindent(…, 2)
            lines.append("  (\(g.modules[c].name)): " + child)
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }
}
