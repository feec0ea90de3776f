import Foundation

/// Placing the mapped calls in the torch module tree their names recover (the tree's zoo text is
/// ONNXImport+ZooText.swift).

/// Where a call sits: a module of its own (`features.0.0`), or a functional call inside a container.
enum Placement {
    case module(String)
    case functional(container: String)
}

final class TreeContainer {
    let path: String
    var items: [TreeItem] = []
    init(path: String) { self.path = path }
}

enum TreeItem {
    case call(Int)
    case container(TreeContainer)
}

struct ModuleTree {
    let b: ImportBuilder
    var notes: [String] = []
    var tensors: [ImportedTensor] = []
    var nameSource = ""
    var placements: [Placement] = []
    var classes: [String: String] = [:]
    var rootClass: String? = nil
    var blocks: [(name: String, text: String)] = []
    var blockByBody: [String: String] = [:]
    var classesCall: Int? = nil
    var firstCallOfModule: [String: Int] = [:]
    /// Children in registration order per container, when ConvLens's export recorded them.
    var registration: [String: Registered] = [:]
    /// Each call's module path from its parameter's name, as `place` settled it.
    var fixedPaths: [String?] = []

    init(builder: ImportBuilder) { b = builder; registration = Self.registration(builder.model) }

    func fail(_ call: MappedCall, _ m: String) -> ONNXError { b.fail(call.node, m) }

    /// Python list literal of strings (`['', 'features', 'features.0']`), as dynamo writes metadata.
    static func pythonList(_ s: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quote: Character? = nil
        for ch in s {
            if let q = quote {
                if ch == q { out.append(cur); cur = ""; quote = nil } else { cur.append(ch) }
            } else if ch == "'" || ch == "\"" { quote = ch }
        }
        return out
    }

    /// Full module paths from a legacy node name: `/features/features.1/block/block.0/Conv` →
    /// [features, features.1, features.1.block, features.1.block.0].
    static func legacyScopes(_ name: String) -> [String] {
        guard name.hasPrefix("/") else { return [] }
        let parts = name.split(separator: "/").map(String.init).dropLast()
        var paths: [String] = []
        var parentLocal = "", parentFull = ""
        for c in parts {
            let full: String
            if !parentLocal.isEmpty, c.hasPrefix(parentLocal + ".") {
                full = parentFull + c.dropFirst(parentLocal.count)
            } else {
                full = parentFull.isEmpty ? c : parentFull + "." + c
            }
            paths.append(full)
            parentLocal = c
            parentFull = full
        }
        return paths
    }

    static func ancestors(_ path: String) -> [String] {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false)
        return (1..<max(parts.count, 1)).map { parts[..<$0].joined(separator: ".") }
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func zooName(_ s: String) -> String {
        isIdentifier(s) || (!s.isEmpty && s.allSatisfy(\.isNumber)) ? s : "\"\(s)\""
    }

    static func sanitize(_ s: String) -> String {
        var r = String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        while r.contains("__") { r = r.replacingOccurrences(of: "__", with: "_") }
        r = r.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        if r.isEmpty || r.first!.isNumber { r = "m_" + r }
        return r
    }

    // MARK: placement

    mutating func place() {
        let calls = b.calls
        let dynamo = calls.contains { $0.node.meta("pkg.torch.onnx.name_scopes") != nil }
        let legacy = !dynamo && calls.contains { $0.node.name.hasPrefix("/") }
        nameSource = dynamo ? "node metadata (PyTorch's dynamo exporter)" : legacy ? "node names (PyTorch's TorchScript exporter)" : "ONNX node names"
        var scopes: [[String]] = []
        // Whether the file places the call (a legacy name starting with "/", dynamo metadata):
        // an empty scope list is then the model itself, not a missing one.
        let hasScope = calls.map { c in dynamo ? c.node.meta("pkg.torch.onnx.name_scopes") != nil : legacy && c.node.name.hasPrefix("/") }
        for c in calls {
            if dynamo, let s = c.node.meta("pkg.torch.onnx.name_scopes") {
                let names = Array(Self.pythonList(s).dropFirst().dropLast())
                let hierarchy = Self.pythonList(c.node.meta("pkg.torch.onnx.class_hierarchy") ?? "")
                if let root = hierarchy.first { rootClass = rootClass ?? String(root.split(separator: ".").last ?? "") }
                for (k, p) in names.enumerated() where k + 1 < hierarchy.count {
                    classes[p] = classes[p] ?? String(hierarchy[k + 1].split(separator: ".").last ?? "")
                }
                scopes.append(names)
            } else if legacy {
                scopes.append(Self.legacyScopes(c.node.name))
            } else {
                scopes.append([])
            }
        }
        // A parameter's name gives its module, unless the exporter shared one initializer between
        // modules whose values happen to be equal (onnxscript deduplicates: with torchvision's
        // default initialisation every BatchNorm2d's weight is ones): a later call with another
        // module's parameter, whose node metadata names a module of its own, is that module.
        var fixedPaths = calls.map(\.fixedPath)
        if dynamo {
            var claimed = Set<String>()
            for i in calls.indices {
                guard let p = fixedPaths[i] else { continue }
                if claimed.contains(p), let own = scopes[i].last, own != p, !scopes[i].contains(p), !Self.ancestors(p).contains(own) {
                    fixedPaths[i] = own
                }
                claimed.insert(fixedPaths[i]!)
            }
        }
        self.fixedPaths = fixedPaths
        // A scope is a leaf module when it holds one kind of call and nothing nested.
        var innermost: [String: [Int]] = [:]
        var nested = Set<String>()
        for (i, c) in calls.enumerated() {
            if let p = fixedPaths[i] {
                nested.formUnion(Self.ancestors(p))
                nested.insert(p)
            } else if let s = scopes[i].last {
                innermost[s, default: []].append(i)
                nested.formUnion(scopes[i].dropLast())
            }
        }
        // A call the exporter left without a scope (onnxscript's rewrites drop metadata) sits in
        // the innermost container common to the calls that read it.
        if dynamo || legacy {
            var consumers: [Int: [Int]] = [:]
            for (j, c) in calls.enumerated() { for r in c.inputs where r >= 0 { consumers[r, default: []].append(j) } }
            func chain(_ j: Int) -> [String] {
                if let p = fixedPaths[j] { return Self.ancestors(p) }
                if let last = scopes[j].last, !nested.contains(last), innermost[last]?.contains(j) == true { return Array(scopes[j].dropLast()) }
                return scopes[j]
            }
            for i in calls.indices.reversed() where !hasScope[i] && fixedPaths[i] == nil {
                let siblings = calls.indices.filter { calls[$0].node.name == calls[i].node.name && calls[$0].node.opType == calls[i].node.opType }
                let readers = siblings.flatMap { consumers[$0] ?? [] }
                guard let first = readers.first else { continue }
                var common = chain(first)
                for j in readers.dropFirst() {
                    let other = chain(j)
                    var k = 0
                    while k < common.count, k < other.count, common[k] == other[k] { k += 1 }
                    common = Array(common[..<k])
                }
                scopes[i] = common
            }
        }
        var madeUp: [String] = []
        var generated: [String: Int] = [:]
        for (i, c) in calls.enumerated() {
            if let p = fixedPaths[i] { placements.append(.module(p)); continue }
            if let s = scopes[i].last, !nested.contains(s), let group = innermost[s], c.module != nil,
               group.allSatisfy({ calls[$0].module == c.module }) {
                placements.append(.module(s))
                continue
            }
            let container = scopes[i].last ?? ""
            if c.functional != nil {
                placements.append(.functional(container: container))
                continue
            }
            // A module-only kind with no module name in the file: name it after the ONNX node.
            var local = Self.sanitize(c.node.name.isEmpty ? c.baseName : c.node.name.split(separator: "/").last.map(String.init) ?? c.baseName)
            if dynamo || legacy { local = c.baseName }
            let key = container + "/" + local
            if let k = generated[key] { generated[key] = k + 1; local += "_\(k + 1)" } else { generated[key] = 0 }
            let path = container.isEmpty ? local : container + "." + local
            madeUp.append(path)
            placements.append(.module(path))
        }
        if !madeUp.isEmpty {
            notes.append("\(madeUp.count) module\(madeUp.count == 1 ? "" : "s") had no torch name in the file and \(madeUp.count == 1 ? "is" : "are") named after \(dynamo || legacy ? "its kind" : "the ONNX nodes"): \(madeUp.prefix(4).joined(separator: ", "))\(madeUp.count > 4 ? ", …" : "")")
        }
        if dynamo {
            notes.append("module names and classes recovered from the dynamo exporter's node metadata")
        } else if legacy {
            notes.append("module names recovered from the TorchScript exporter's node names; the file names no classes (containers print as Sequential or Module)")
        } else {
            notes.append("the file carries no torch module names: modules are named after the ONNX nodes")
        }
    }

    // MARK: the tree

    func buildTree() throws(ONNXError) -> TreeContainer {
        let root = TreeContainer(path: "")
        var seenContainers = Set<String>()
        for (i, p) in placements.enumerated() {
            let chain: [String]
            switch p {
            case .module(let m): chain = Self.ancestors(m)
            case .functional(let c): chain = c.isEmpty ? [] : Self.ancestors(c) + [c]
            }
            var node = root
            for path in chain {
                if case .container(let last)? = node.items.last, last.path == path {
                    node = last
                    continue
                }
                guard !seenContainers.contains(path) else {
                    throw fail(b.calls[i], "module '\(path)' runs again after other work; ConvLens calls a container once")
                }
                let c = TreeContainer(path: path)
                seenContainers.insert(path)
                node.items.append(.container(c))
                node = c
            }
            node.items.append(.call(i))
        }
        return root
    }

    func outputOf(_ item: TreeItem) -> Ref? {
        switch item {
        case .call(let i): return i
        case .container(let c): return c.items.last.flatMap(outputOf)
        }
    }

    func produced(_ c: TreeContainer) -> Set<Ref> {
        var s = Set<Ref>()
        for item in c.items {
            switch item {
            case .call(let i): s.insert(i)
            case .container(let sub): s.formUnion(produced(sub))
            }
        }
        return s
    }

    /// The tensors a container reads from outside itself, in first-use order.
    func externalInputs(_ c: TreeContainer) -> [Ref] {
        let inside = produced(c)
        var out: [Ref] = []
        func visit(_ c: TreeContainer) {
            for item in c.items {
                switch item {
                case .call(let i): for r in b.calls[i].inputs where !inside.contains(r) && !out.contains(r) { out.append(r) }
                case .container(let sub): visit(sub)
                }
            }
        }
        visit(c)
        return out
    }

    /// Whether a container's first step reads exactly its external tensors `ext` (in order) and no
    /// later step reads any of them.
    func readsAllAtOnce(_ c: TreeContainer, _ ext: [Ref]) -> Bool {
        guard case .call(let first)? = c.items.first, b.calls[first].inputs == ext else { return false }
        let outside = Set(ext)
        func reads(_ item: TreeItem) -> Bool {
            switch item {
            case .call(let i): return b.calls[i].inputs.contains { outside.contains($0) }
            case .container(let sub): return sub.items.contains(where: reads)
            }
        }
        return !c.items.dropFirst().contains(where: reads)
    }

    func local(_ path: String, in container: String) -> String {
        container.isEmpty ? path : String(path.dropFirst(container.count + 1))
    }
}
