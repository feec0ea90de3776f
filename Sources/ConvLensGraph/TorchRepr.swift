/// `print(model)` as PyTorch writes it: `Module.__repr__` with `_addindent`.
public enum TorchRepr {
    public static func render(_ graph: ModelGraph) -> String {
        var out: [String] = []
        out.reserveCapacity(graph.modules.count + 8)
        emit(graph, 0, prefix: "", indent: "", into: &out)
        return out.joined(separator: "\n") + "\n"
    }

    /// torch's `Module.__repr__`: `Class(` + extra + one `(name): child` line per child + `)`, each
    /// child's own lines after its first indented by two more spaces (`_addindent(…, 2)`). Written
    /// line by line with the indentation carried down, instead of re-indenting every subtree's text.
    static func emit(_ g: ModelGraph, _ i: Int, prefix: String, indent: String, into out: inout [String]) {
        let m = g.modules[i]
        let extra = m.spec?.extraRepr ?? ""
        if m.children.isEmpty {
            out.append(indent + prefix + "\(m.className)(\(extra))")
            return
        }
        out.append(indent + prefix + "\(m.className)(")
        let inner = indent + "  "
        if !extra.isEmpty { out.append(inner + extra) }
        for c in m.children {
            emit(g, c, prefix: "(\(g.modules[c].name)): ", indent: inner, into: &out)
        }
        out.append(indent + ")")
    }
}
