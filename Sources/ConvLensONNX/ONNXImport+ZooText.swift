import Foundation

/// Writing the module tree (ONNXImport+Tree.swift) as zoo text: containers whose children are 0, 1,
/// … in a chain become `Sequential { … }`, any other container a `block`; a module called again is
/// a bare name line (ResNet's `relu`).
extension ModuleTree {
    /// The zoo constructor of module `m`'s first call `i` (its parameters collected on the way).
    mutating func moduleText(_ i: Int, path m: String) -> String {
        let call = b.calls[i]
        firstCallOfModule[m] = i
        // ConvLens's export names the module's constructor: it says what ONNX cannot.
        var t = (call.module != nil ? call.node.meta(ONNXImport.moduleKey) : nil) ?? call.module ?? call.functional ?? ""
        if i == classesCall, let arg = call.classesArgument {
            t = t.replacingOccurrences(of: arg.text, with: arg.text.replacingOccurrences(of: "\(arg.value)", with: "num_classes"))
        }
        for (suffix, data) in call.params {
            if case .int64(let v) = data.values {
                tensors.append(ImportedTensor(name: m + "." + suffix, dims: data.dims, floats: [], int64s: v))
            } else {
                tensors.append(ImportedTensor(name: m + "." + suffix, dims: data.dims, floats: data.floats))
            }
        }
        return t
    }


    /// The body lines of a container (unindented), and whether it is a plain Sequential.
    /// `inputs` are the tensors it reads from outside: one (`$in`), or several when its first step
    /// reads all of them at once and nothing else does (DenseNet's `_DenseLayer`: `torch.cat(inputs, 1)`),
    /// which a zoo block writes `<- $in`.
    mutating func body(_ c: TreeContainer, inputs bodyInputs: [Ref], output: Ref) throws(ONNXError) -> (lines: [String], sequential: Bool) {
        let input = bodyInputs.count == 1 ? bodyInputs[0] : nil
        var names: [Ref: String] = [:]
        var used = Set<String>()
        for item in c.items {
            if case .call(let i) = item, case .module(let m) = placements[i] { used.insert(local(m, in: c.path)) }
            if case .container(let sub) = item { used.insert(local(sub.path, in: c.path)) }
        }
        var lines: [String] = []
        var previous: Ref? = input
        var sequential = true
        // Registration order (ConvLens's export): before a child is first called, every child
        // registered before it is declared (`module NAME = …`), and a declared one is later called by name.
        let registered = registration[c.path] ?? []
        var declared = Set<String>()
        func pendingDeclarations(before name: String?) -> [(name: String, uncalled: String?)] {
            let end = name.flatMap { n in registered.firstIndex { $0.name == n } } ?? (name == nil ? registered.count : 0)
            return registered[..<end].filter { !declared.contains($0.name) }
        }
        for (k, item) in c.items.enumerated() {
            var itemName: String? = nil
            switch item {
            case .call(let i): if case .module(let m) = placements[i], firstCallOfModule[m] == nil { itemName = local(m, in: c.path) }
            case .container(let sub): itemName = local(sub.path, in: c.path)
            }
            if let itemName {
                for r in pendingDeclarations(before: itemName) {
                    declared.insert(r.name)
                    if let text = r.uncalled {
                        lines.append("module \(Self.zooName(r.name)) = \(text)")
                    } else if let j = c.items.firstIndex(where: { if case .call(let jj) = $0, case .module(let mm) = placements[jj], firstCallOfModule[mm] == nil, local(mm, in: c.path) == r.name { true } else { false } }),
                              case .call(let jj) = c.items[j], case .module(let mm) = placements[jj] {
                        lines.append("module \(Self.zooName(r.name)) = \(moduleText(jj, path: mm))")
                    } else { continue }
                    sequential = false
                }
                declared.insert(itemName)
            }
            let inputs: [Ref]
            var name: String
            var text: String
            switch item {
            case .call(let i):
                let call = b.calls[i]
                inputs = call.inputs
                switch placements[i] {
                case .module(let m):
                    name = local(m, in: c.path)
                    if firstCallOfModule[m] == nil {
                        text = " = " + moduleText(i, path: m)
                    } else {
                        text = ""
                        sequential = false
                    }
                case .functional:
                    sequential = false
                    var n = call.baseName, j = 0
                    if call.ownParameter {
                        // Its name is its state_dict key's last part: it cannot be renamed.
                        guard !used.contains(n) else { throw fail(call, "parameter '\(n)' of '\(c.path)' has a name already used there") }
                    }
                    while used.contains(n) { j += 1; n = "\(call.baseName)_\(j)" }
                    used.insert(n)
                    name = n
                    text = " = " + (call.functional ?? "")
                    if call.ownParameter, let (_, data) = call.params.first {
                        tensors.append(ImportedTensor(name: c.path.isEmpty ? n : c.path + "." + n, dims: data.dims, floats: data.floats))
                    }
                }
            case .container(let sub):
                name = local(sub.path, in: c.path)
                let ext = externalInputs(sub)
                guard ext.count <= 1 || readsAllAtOnce(sub, ext), let subOut = outputOf(item) else {
                    let first = produced(sub).min() ?? 0
                    throw fail(b.calls[first], "module '\(sub.path)' takes \(ext.count) tensors from outside, and not all at once in its first step; ConvLens blocks take one, or several as one list")
                }
                inputs = ext
                let (subLines, subSeq) = try body(sub, inputs: ext, output: subOut)
                let cls = classes[sub.path]
                let indented = subLines.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
                if subSeq && !subLines.isEmpty {
                    let suffix = cls == nil || cls == "Sequential" ? "" : " class \(cls!)"
                    text = " = Sequential\(suffix)\u{0}{\n" + indented + "\n}"
                } else {
                    // Without a class in the file: a container of numbered children is a Sequential
                    // (one whose folded batch norms left gaps in the numbering), any other a Module.
                    let numbered = sub.items.allSatisfy { item in
                        if case .container(let cc) = item { return local(cc.path, in: sub.path).allSatisfy(\.isNumber) }
                        if case .call(let i) = item, case .module(let m) = placements[i] { return local(m, in: sub.path).allSatisfy(\.isNumber) }
                        return false
                    }
                    let blockClass = cls ?? (numbered ? "Sequential" : "Module")
                    let key = blockClass + "\n" + indented
                    let blockName: String
                    if let existing = blockByBody[key] { blockName = existing } else {
                        // `…Block`: a block's name must not shadow a layer kind (Sequential, Conv2d).
                        let base = Self.sanitize(blockClass) + "Block"
                        var n = base, j = 1
                        while blocks.contains(where: { $0.name == n }) { j += 1; n = base + "\(j)" }
                        blockName = n
                        blockByBody[key] = n
                        let header = "block \(n)() class \(blockClass) {"
                        blocks.append((n, header + "\n" + indented + "\n}"))
                    }
                    text = " = \(blockName)()"
                }
            }
            if name != String(k) { sequential = false }
            // Inputs: earlier lines of this body by name, or `$in` for the container's input.
            var refs: [String] = []
            if bodyInputs.count > 1, inputs == bodyInputs {
                refs = ["$in"]          // the block's inputs, all at once
            } else { for r in inputs {
                if let n = names[r] { refs.append(n) } else if r == input { refs.append("$in") } else {
                    throw fail(b.calls[max(r, 0)], "its output is used by '\(c.path.isEmpty ? "the model" : c.path)' from inside another module; ConvLens modules return one tensor, their last")
                }
            } }
            var arrow = ""
            if inputs != [previous].compactMap({ $0 }) || inputs.isEmpty {
                arrow = " <- " + refs.joined(separator: ", ")
                sequential = false
            }
            if inputs.isEmpty { arrow = "" }
            if let r = outputOf(item) { names[r] = Self.zooName(name) }
            var line = Self.zooName(name) + text
            if let brace = line.range(of: "\u{0}{") {
                line.replaceSubrange(brace, with: arrow + " {")
            } else {
                line += arrow
            }
            lines.append(line)
            previous = outputOf(item)
        }
        for r in pendingDeclarations(before: nil) where r.uncalled != nil {
            lines.append("module \(Self.zooName(r.name)) = \(r.uncalled!)")
            sequential = false
        }
        guard previous == output else {
            throw fail(b.calls[max(output, 0)], "it computes the output of '\(c.path.isEmpty ? "the model" : c.path)' but is not its last step")
        }
        return (lines, sequential)
    }

    mutating func render(output: Ref, classesCall: Int?) throws(ONNXError) -> (blocks: String, body: String, rootClass: String?) {
        self.classesCall = classesCall
        place()
        let root = try buildTree()
        let (lines, _) = try body(root, inputs: [-1], output: output)
        return (blocks.map(\.text).joined(separator: "\n\n"), lines.joined(separator: "\n"), rootClass)
    }
}
