import Foundation

/// `model.py` of `convlens export --format pytorch`: the zoo file as plain PyTorch source.
///
/// The file is transcribed, not the instantiated graph: one `nn.Module` class per block and one
/// for the model, whose constructors take the same params (so `build(num_classes=7)` works as
/// `--arg num_classes=7` does), attributes named as the zoo names its modules (the state_dict keys
/// are ConvLens's), and a `forward` that follows the body's lines — functional calls, residual
/// adds, concatenations, `if PARAM` conditions and `@train` heads (returned beside the logits in
/// training mode). Each layer kind spells itself (`LayerSpec.pytorch`); plain torch lacks a few
/// torchvision classes, which the kinds supply as helpers written once at the top, so model.py
/// imports torch only. Zoo arithmetic is Python's, so printed values come out as torch prints them.
public enum PyTorchModel {
    /// How a kind is asked for its spelling; tests substitute one to exercise `.unsupported`.
    public typealias Speller = @Sendable (any LayerSpec.Type, PyTorchCall) -> PyTorchSpelling

    public static func source(_ file: ZooFile, arguments: [(name: String, value: ZooValue)],
                              speller: @escaping Speller = { kind, call in kind.pytorch(call) }) throws(ZooError) -> String {
        var w = Writer(file: file, speller: speller)
        try w.run(arguments: arguments)
        return w.text()
    }
}

/// Python identifiers for zoo names.
enum PythonName {
    static let keywords: Set<String> = ["False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
                                        "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
                                        "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield"]
    /// Names model.py uses itself (modules, the forward's input and locals).
    static let reserved: Set<String> = ["self", "x", "inputs", "aux", "_last", "torch", "nn", "F", "math", "super", "sum"]

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && f.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) } && !keywords.contains(s)
    }

    /// A local variable for a zoo name: `0` → `_0`, `block1-0` → `block1_0`, `x` → `x_`.
    static func variable(_ s: String) -> String {
        var v = String(s.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) ? Character($0) : "_" })
        if v.first.map({ $0.isNumber }) ?? true { v = "_" + v }
        if keywords.contains(v) || reserved.contains(v) { v += "_" }
        return v
    }
}

private struct Writer {
    let file: ZooFile
    let speller: PyTorchModel.Speller
    var helpers: [PyTorchHelper] = []
    var classes: [[String]] = []
    /// Python class name per block name, and per inline Sequential class.
    var classNames: [String: String] = [:]
    var sequentialClasses: [String: String] = [:]
    var sequentialClassOrder: [String] = []
    /// Per block: the outer names it reads (params of the model or of a caller), passed as keywords.
    var freeNames: [String: [String]] = [:]
    /// Blocks called with several inputs: `forward(self, *inputs)`.
    var variadic: Set<String> = []
    var usesMath = false
    var temp = 0

    init(file: ZooFile, speller: @escaping PyTorchModel.Speller) { self.file = file; self.speller = speller }

    // MARK: analysis

    static func names(in v: ZooValue, into out: inout [String]) {
        switch v {
        case .ident(let n): if !out.contains(n) { out.append(n) }
        case .tuple(let xs), .expr(_, let xs): for x in xs { names(in: x, into: &out) }
        default: break
        }
    }

    /// Every statement of a body, inline Sequential children included.
    static func flatten(_ body: [Statement]) -> [Statement] {
        body.flatMap { [$0] + flatten($0.children ?? []) }
    }

    mutating func analyse() {
        var used: [String: [String]] = [:]
        for (name, b) in file.blocks {
            var n: [String] = []
            for st in Self.flatten(b.body) {
                for a in st.arguments { Self.names(in: a.value, into: &n) }
                if let c = st.condition, !n.contains(c.name) { n.append(c.name) }
            }
            used[name] = n
        }
        // Free names: used, or free in a called block, and not the block's own params (fixpoint).
        var free: [String: [String]] = [:]
        for (name, b) in file.blocks { free[name] = used[name]!.filter { n in !b.params.contains { $0.name == n } } }
        var changed = true
        while changed {
            changed = false
            for (name, b) in file.blocks {
                for st in Self.flatten(b.body) {
                    guard let callee = st.callee, let inner = free[callee], callee != name else { continue }
                    for n in inner where !b.params.contains(where: { $0.name == n }) && !free[name]!.contains(n) {
                        free[name]!.append(n); changed = true
                    }
                }
            }
        }
        freeNames = free.mapValues { $0.sorted() }
        // Variadic blocks: a call with several inputs, or `<- $in` inside a variadic body.
        changed = true
        while changed {
            changed = false
            let bodies: [(owner: String?, body: [Statement])] = [(nil, file.body)] + file.blocks.map { ($0.key, $0.value.body) }
            for (owner, body) in bodies {
                let ownerVariadic = owner.map { variadic.contains($0) } ?? false
                var defined: [String: String] = [:]
                for st in Self.flatten(body) { if let c = st.callee { defined[st.name] = c } }
                for st in Self.flatten(body) {
                    guard let callee = st.callee ?? defined[st.name], file.blocks[callee] != nil, let ins = st.inputs else { continue }
                    if (ins.count > 1 || (ins.first?.name == "$in" && ownerVariadic)) && !variadic.contains(callee) {
                        variadic.insert(callee); changed = true
                    }
                }
            }
        }
        // Class names: the block's name, kept apart from the model's class and the helpers.
        var taken: Set<String> = ["Module", "Sequential", "StochasticDepth", "Permute", "LayerNorm2d", PythonName.variable(file.className)]
        for name in file.blocks.keys.sorted() {
            var c = PythonName.variable(name)
            while taken.contains(c) { c += "_" }
            taken.insert(c); classNames[name] = c
        }
        for st in Self.flatten(file.body + file.blocks.values.flatMap(\.body)) {
            guard let s = st.sequentialClass, sequentialClasses[s] == nil else { continue }
            var c = PythonName.variable(s)
            while taken.contains(c) { c += "_" }
            taken.insert(c); sequentialClasses[s] = c; sequentialClassOrder.append(s)
        }
    }

    // MARK: writing

    mutating func run(arguments: [(name: String, value: ZooValue)]) throws(ZooError) {
        analyse()
        for name in file.blocks.keys.sorted(by: { file.blocks[$0]!.location.line < file.blocks[$1]!.location.line }) {
            let b = file.blocks[name]!
            let own = b.params.map { p in PythonName.variable(p.name) + (p.defaultValue.map { "=" + PyTorchSource.expression($0, name: PythonName.variable) } ?? "") }
            let kw = freeNames[name]!.map(PythonName.variable)
            let sig = (own + (kw.isEmpty ? [] : ["*"] + kw)).joined(separator: ", ")
            try writeClass(python: classNames[name]!, printed: b.className, signature: sig, body: b.body, variadic: variadic.contains(name), root: false)
        }
        let sig = file.params.map { PythonName.variable($0.name) + "=" + PyTorchSource.expression($0.defaultValue, name: PythonName.variable) }.joined(separator: ", ")
        try writeClass(python: PythonName.variable(file.className), printed: file.className, signature: sig, body: file.body, variadic: false, root: true)
        self.arguments = arguments
    }

    var arguments: [(name: String, value: ZooValue)] = []

    /// A block whose lines only define modules, each fed by the one before: an nn.Sequential subclass.
    static func isSequential(_ body: [Statement]) -> Bool {
        body.allSatisfy { st in
            st.form == .define && st.inputs == nil && !st.trainOnly && st.callee != nil && LayerFactory.functions[st.callee!] == nil
        }
    }

    mutating func writeClass(python: String, printed: String, signature: String, body: [Statement], variadic: Bool, root: Bool) throws(ZooError) {
        let sequential = !root && Self.isSequential(body)
        var lines: [String] = []
        lines.append("class \(python)(\(sequential ? "nn.Sequential" : "nn.Module")):")
        let doc = root ? "\(printed) (\(file.name)), from \(file.path)." : "zoo block \(file.blocks.values.first { classNames[$0.name] == python }?.name ?? python)."
        lines.append("    \"\"\"\(doc)\"\"\"")
        lines.append("")
        lines.append("    def __init__(self\(signature.isEmpty ? "" : ", " + signature)):")
        lines.append("        super().__init__()")
        let conditions = Set(body.compactMap { st -> String? in st.form != .declare ? st.condition?.name : nil }).sorted()
        if !sequential {
            for c in conditions { lines.append("        self._if_\(PythonName.variable(c)) = bool(\(PythonName.variable(c)))") }
        }
        try register(body, into: &lines, indent: "        ", target: "self")
        if python != printed {
            lines += ["", "    def _get_name(self):", "        return \(PyTorchSource.string(printed))"]
        }
        if !sequential {
            lines.append("")
            try forward(body, into: &lines, variadic: variadic, root: root)
        }
        classes.append(lines)
    }

    func attribute(_ target: String, _ name: String) -> String {
        PythonName.isIdentifier(name) && !PythonName.reserved.contains(name) ? "\(target).\(name)" : "getattr(\(target), \(PyTorchSource.string(name)))"
    }

    func call(_ st: Statement, inputs: [String], isFunction: Bool) -> PyTorchCall {
        let args = st.arguments.map { a in (keyword: a.keyword, text: PyTorchSource.expression(a.value, name: PythonName.variable)) }
        return PyTorchCall(callee: st.callee ?? "", isFunction: isFunction, arguments: args, inputs: inputs)
    }

    mutating func spell(_ kind: any LayerSpec.Type, _ c: PyTorchCall, _ st: Statement) throws(ZooError) -> PyTorchSpelling {
        let s = speller(kind, c)
        switch s {
        case .module(_, let h), .function(_, let h):
            for x in h where !helpers.contains(where: { $0.name == x.name }) { helpers.append(x) }
        case .parameter: break
        case .unsupported(let why):
            throw ZooError(.unknownLayer, "\(st.callee ?? kind.className) has no PyTorch equivalent to export (\(why))", at: st.calleeLocation ?? st.nameLocation, module: st.name)
        }
        if st.arguments.contains(where: { a in var n: [String] = []; Self.names(in: a.value, into: &n); return Self.usesSqrt(a.value) }) { usesMath = true }
        return s
    }

    static func usesSqrt(_ v: ZooValue) -> Bool {
        switch v {
        case .expr(let op, let xs): return op == "sqrt" || xs.contains(where: usesSqrt)
        case .tuple(let xs): return xs.contains(where: usesSqrt)
        default: return false
        }
    }

    /// The constructor expression of a module line (a layer, a block or an inline Sequential).
    mutating func constructor(_ st: Statement, into lines: inout [String], indent: String) throws(ZooError) -> String {
        guard let callee = st.callee else { throw ZooError(.syntax, "'\(st.name)' has no constructor", at: st.nameLocation) }
        if callee == "Sequential" {
            temp += 1
            let v = "seq\(temp)"
            let cls = st.sequentialClass.map { sequentialClasses[$0]! } ?? "nn.Sequential"
            lines.append(indent + "\(v) = \(cls)()")
            try register(st.children ?? [], into: &lines, indent: indent, target: v)
            return v
        }
        if let entry = LayerFactory.modules[callee] {
            guard case .module(let expr, _) = try spell(entry.kind, call(st, inputs: [], isFunction: false), st) else {
                throw ZooError(.unknownLayer, "\(callee) has no PyTorch module to export", at: st.calleeLocation, module: st.name)
            }
            return expr
        }
        if let block = file.blocks[callee] {
            let args = st.arguments.map { a in (a.keyword.map { PythonName.variable($0) + "=" } ?? "") + PyTorchSource.expression(a.value, name: PythonName.variable) }
            let kw = freeNames[block.name]!.map { PythonName.variable($0) + "=" + PythonName.variable($0) }
            return "\(classNames[callee]!)(" + (args + kw).joined(separator: ", ") + ")"
        }
        throw ZooError(.undefinedBlock, "unknown layer type or block '\(callee)'", at: st.calleeLocation, module: st.name)
    }

    /// `__init__`: registers modules and parameters in the body's text order (torch's state_dict order).
    mutating func register(_ body: [Statement], into lines: inout [String], indent: String, target: String) throws(ZooError) {
        for st in body where st.form != .call {
            guard let callee = st.callee else { continue }
            var ind = indent
            if let c = st.condition {
                lines.append(indent + "if \(c.negated ? "not " : "")\(PythonName.variable(c.name)):")
                ind += "    "
            }
            let before = lines.count
            if let fn = LayerFactory.functions[callee] {
                guard callee == "Parameter" else { continue }
                guard case .parameter(let expr) = try spell(fn.kind, call(st, inputs: [], isFunction: true), st) else { continue }
                lines.append(ind + (PythonName.isIdentifier(st.name) ? "\(target).\(st.name) = \(expr)" : "\(target).register_parameter(\(PyTorchSource.string(st.name)), \(expr))"))
            } else {
                let expr = try constructor(st, into: &lines, indent: ind)
                let name = st.name
                if PythonName.isIdentifier(name) && !PythonName.reserved.contains(name) {
                    lines.append(ind + "\(target).\(name) = \(expr)")
                } else {
                    lines.append(ind + "\(target).add_module(\(PyTorchSource.string(name)), \(expr))")
                }
            }
            if st.condition != nil && lines.count == before { lines.append(ind + "pass") }
        }
    }

    /// `forward`: the body's lines in order.
    mutating func forward(_ body: [Statement], into lines: inout [String], variadic: Bool, root: Bool) throws(ZooError) {
        lines.append(variadic ? "    def forward(self, *inputs):" : "    def forward(self, x):")
        let ind = "        "
        var symbols: [String: String] = ["$in": variadic ? "*inputs" : "x"]
        var last = variadic ? "inputs[0]" : "x"
        var registered: [String: Statement] = [:]
        for st in body where st.form != .call { registered[st.name] = st }
        let hasAux = root && body.contains { $0.trainOnly }
        if hasAux { lines.append(ind + "aux = []") }
        for st in body where st.form != .declare {
            let isParameter = st.form == .define && st.callee == "Parameter"
            if isParameter {
                symbols[st.name] = attribute("self", st.name)
                continue
            }
            var inputs: [String]
            if let named = st.inputs {
                inputs = []
                for (n, loc) in named {
                    guard let v = symbols[n] else {
                        throw ZooError(.unknownInput, "input '\(n)' does not exist here", at: loc, module: st.name)
                    }
                    inputs.append(v)
                }
            } else {
                inputs = [last]
            }
            let expr: String
            if st.form == .define, let callee = st.callee, let fn = LayerFactory.functions[callee] {
                guard case .function(let e, _) = try spell(fn.kind, call(st, inputs: inputs, isFunction: true), st) else {
                    throw ZooError(.unknownLayer, "\(callee) has no PyTorch function to export", at: st.calleeLocation, module: st.name)
                }
                expr = e
            } else {
                guard registered[st.name] != nil else {
                    throw ZooError(.unknownLayer, "'\(st.name)' is not a module defined in this body", at: st.nameLocation, module: st.name)
                }
                expr = attribute("self", st.name) + "(" + inputs.joined(separator: ", ") + ")"
            }
            let v = PythonName.variable(st.name)
            var guards: [String] = []
            if st.trainOnly { guards.append("self.training") }
            if let c = st.condition { guards.append((c.negated ? "not " : "") + "self._if_\(PythonName.variable(c.name))") }
            if guards.isEmpty {
                lines.append(ind + "\(v) = \(expr)")
                last = v
            } else if st.trainOnly {
                lines.append(ind + "if " + guards.joined(separator: " and ") + ":")
                lines.append(ind + "    \(v) = \(expr)")
                if root { lines.append(ind + "    aux.append(\(v))") }
            } else {
                // The chain continues from this line only when its condition holds.
                if last != "_last" { lines.append(ind + "_last = \(last)") }
                lines.append(ind + "if " + guards.joined(separator: " and ") + ":")
                lines.append(ind + "    \(v) = \(expr)")
                lines.append(ind + "    _last = \(v)")
                last = "_last"
            }
            symbols[st.name] = v
        }
        if hasAux {
            lines.append(ind + "if self.training and aux:")
            lines.append(ind + "    return \(last), aux")
        }
        lines.append(ind + "return \(last)")
    }

    func text() -> String {
        var out: [String] = []
        out.append("# model.py — \(file.name) (\(file.className)) as plain PyTorch, written by `convlens export --format pytorch`")
        out.append("# from \(file.path). Module names are the zoo file's, so state_dict keys equal ConvLens's;")
        out.append("# print(build()) shows what `convlens print \(file.name)` shows. Needs torch only (1.13 or 2.x).")
        out.append("# In training mode a model with @train heads returns (logits, [aux_logits, ...]).")
        if usesMath { out.append("import math") }
        out += ["", "import torch", "from torch import nn", "import torch.nn.functional as F", ""]
        for h in helpers {
            out += ["", h.source, ""]
        }
        for s in sequentialClassOrder {
            let c = sequentialClasses[s]!
            out += ["", "class \(c)(nn.Sequential):", "    \"\"\"An nn.Sequential that prints as \(s).\"\"\""]
            if c != s { out += ["", "    def _get_name(self):", "        return \(PyTorchSource.string(s))"] }
            out.append("")
        }
        for c in classes { out += [""] + c + [""] }
        let root = PythonName.variable(file.className)
        out.append("")
        out.append("# The constructor arguments the export used (the zoo file's params, --arg applied).")
        out.append("ARGUMENTS = {" + arguments.map { PyTorchSource.string($0.name) + ": " + PyTorchSource.expression($0.value, name: PythonName.variable) }.joined(separator: ", ") + "}")
        out.append("")
        out.append("")
        out.append("def build(**params):")
        out.append("    \"\"\"\(file.className) with ARGUMENTS, any of them overridden by keyword (build(num_classes=7)).\"\"\"")
        out.append("    unknown = sorted(set(params) - set(ARGUMENTS))")
        out.append("    if unknown:")
        out.append("        raise TypeError(\"\(file.name) has no argument %s (it takes: %s)\" % (unknown[0], \", \".join(ARGUMENTS) or \"none\"))")
        out.append("    return \(root)(**dict(ARGUMENTS, **params))")
        out.append("")
        out.append("")
        out.append("if __name__ == \"__main__\":")
        out.append("    print(build())")
        // Collapse runs of blank lines to PEP 8's two.
        var lines: [String] = []
        var blanks = 0
        for l in out.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            if l.trimmingCharacters(in: .whitespaces).isEmpty { blanks += 1; if blanks > 2 { continue } } else { blanks = 0 }
            lines.append(String(l))
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}
