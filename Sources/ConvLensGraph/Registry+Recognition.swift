import Foundation

/// Recognising an imported model as a registry architecture.
///
/// An ONNX file keeps what inference runs, not how the model was written: the TorchScript exporter
/// writes no class names, no `inplace` flags and no eval-mode Dropout. When an import is, module for
/// module, a registry model — the same state_dict (keys and shapes), every imported module at the
/// same path with the same class and arguments, and the same forward graph (the same nodes in the
/// same order, with the same inputs and output shapes) — the import takes the registry model's
/// description (its classes, `inplace` flags, the modules inference does not run, its init rules
/// and training recipe) and says so in a note. Nothing is guessed: a file that differs anywhere
/// (a folded batch norm, another activation, a missing residual add, other constructor arguments
/// than `num_classes`) stays the plain import.
extension Registry {
    /// The registry model `imported` is exactly, and the description to use in its place: that
    /// model's zoo file at the import's input shape and class count, under the import's path and
    /// name, with a note naming the model; nil when no registry model matches.
    public static func recognize(_ imported: ZooFile) -> (name: String, file: ZooFile)? {
        guard let g = try? GraphBuilder.build(imported) else { return nil }
        let keys = g.stateDict()
        guard !keys.isEmpty, let classes = g.nodes.last?.outputShape.last else { return nil }
        for name in recognitionIndex where name.stateEntries == keys.count {
            guard var file = try? load(name.name) else { continue }
            // The one constructor argument an exported classifier commonly changes.
            if let i = file.params.firstIndex(where: { $0.name == "num_classes" }), case .int = file.params[i].defaultValue {
                file.params[i].defaultValue = .int(classes)
            }
            guard let r = try? GraphBuilder.build(file, input: g.inputShape), sameModel(g, r) else { continue }
            file.path = imported.path
            file.name = imported.name
            file.input = g.inputShape
            // The published figures describe torchvision's trained weights, not this file's.
            file.meta = file.meta.filter { !$0.key.hasPrefix("imagenet_") }
            file.meta.append((key: "import_note_1", value: .string(
                "recognised as the registry's \(name.name): the same modules, state_dict and forward graph; classes, inplace flags and the modules inference does not run (Dropout) are taken from its zoo file")))
            return (name.name, file)
        }
        return nil
    }

    /// The zoo text `convlens import` writes for a recognised file: the registry model's own file
    /// with the import's name, input shape and class count, without torchvision's published
    /// figures, and a comment saying where it came from.
    public static func recognizedText(_ name: String, as file: ZooFile, from path: String) -> String? {
        guard let text = embeddedText(name) else { return nil }
        let classes = file.params.first { $0.name == "num_classes" }?.defaultValue
        var out = "# Imported from \((path as NSString).lastPathComponent) by convlens import: recognised as the registry's \(name)\n"
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("model ") {
                var words = line.split(separator: " ").map(String.init)
                if words.count >= 2 { words[1] = file.name }
                out += words.joined(separator: " ")
            } else if line.hasPrefix("input ") {
                out += "input " + file.input.map(String.init).joined(separator: " ")
            } else if line.hasPrefix("param num_classes "), let classes {
                out += "param num_classes = \(classes)"
            } else if line.hasPrefix("meta imagenet_") {
                continue
            } else {
                out += line
            }
            out += "\n"
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }

    /// Each registry model's state_dict size at its defaults (it does not depend on the input or
    /// the class count): the cheap first filter, built once per process when an import asks.
    private static let recognitionIndex: [(name: String, stateEntries: Int)] = {
        let names = Registry.names
        let graphs = (try? Registry.graphs(names)) ?? []
        return zip(names, graphs).map { ($0, $1.stateDict().count) }
    }()

    /// Whether imported graph `g` is registry graph `r` (see the type's comment).
    static func sameModel(_ g: ModelGraph, _ r: ModelGraph) -> Bool {
        // The same state_dict, key for key and shape for shape (the order of registration may
        // differ: the import registers modules in the order they run).
        let gs = Dictionary(g.stateDict().map { ($0.key, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let rs = Dictionary(r.stateDict().map { ($0.key, $0.shape) }, uniquingKeysWith: { a, _ in a })
        guard gs == rs else { return false }
        // Every imported leaf module is the registry's at the same path, with the same arguments
        // (as far as an exported graph shows them: see `exportable`).
        let rModules = Dictionary(r.modules.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        for m in g.modules where m.layer != nil {
            guard let other = rModules[m.path], let a = m.layer, let b = other.layer,
                  a.className == b.className, exportable(a.spec.extraRepr) == exportable(b.spec.extraRepr) else { return false }
        }
        // The same forward graph once the nodes that do nothing in eval mode are set aside (Dropout,
        // Identity, StochasticDepth: absent from an exported graph): node for node the same module
        // path (for modules; a function's arguments for functions), operation, output shape and inputs.
        let gPath = Set(g.modules.map(\.path))
        for m in r.modules where m.layer != nil && !gPath.contains(m.path) {
            guard let layer = m.layer, Self.passesThroughInEval(layer) else { return false }
        }
        let gn = liveNodes(g), rn = liveNodes(r)
        guard gn.nodes.count == rn.nodes.count else { return false }
        for (a, b) in zip(gn.nodes, rn.nodes) {
            guard a.outputShape == b.outputShape, a.kind == b.kind, a.functionName == b.functionName,
                  a.kind == .module ? a.name == b.name : exportable(a.layer.spec.extraRepr) == exportable(b.layer.spec.extraRepr),
                  a.inputs.map({ gn.renumber[$0] }) == b.inputs.map({ rn.renumber[$0] }) else { return false }
        }
        return gn.renumber[g.output] == rn.renumber[r.output]
    }

    /// A layer that returns its input unchanged in eval mode.
    static func passesThroughInEval(_ layer: Layer) -> Bool {
        switch layer {
        case .dropout, .identity, .stochasticDepth: return true
        default: return false
        }
    }

    /// The eval-mode nodes that compute something, and each node's position among them (a node set
    /// aside maps to what it passes through; the graph input to −1).
    private static func liveNodes(_ g: ModelGraph) -> (nodes: [GraphNode], renumber: [Int: Int]) {
        var renumber: [Int: Int] = [ModelGraph.inputID: -1]
        var live: [GraphNode] = []
        for n in g.nodes(training: false) {
            if passesThroughInEval(n.layer), n.inputs.count == 1 {
                renumber[n.index] = renumber[n.inputs[0]]
                continue
            }
            renumber[n.index] = live.count
            live.append(n)
        }
        return (live, renumber)
    }

    /// A module's arguments as an exported graph can tell them: without `inplace`, and with a square
    /// window's pair written once (`kernel_size=(2, 2)` and `kernel_size=2` are the same module).
    private static func exportable(_ repr: String) -> String {
        let text = repr.replacingOccurrences(of: ", inplace=True", with: "").replacingOccurrences(of: "inplace=True", with: "")
        return text.replacingOccurrences(of: #"\((-?\d+), \1\)"#, with: "$1", options: .regularExpression)
    }
}
