/// `init TARGET = FUNCTION(args) [if [not] PARAM]` lines (zoo/README.md, "Initialisation").
extension LineReader {
    /// Reads the rest of an `init` line (after the keyword) and checks what needs no model:
    /// the kind exists and has the parameter, the function exists, its arguments bind and the
    /// literal ones have the right types.
    mutating func initRule() throws(ZooError) -> InitRule {
        let l = location()
        guard let t = peek() else { throw ZooError(.syntax, "expected an init target at end of line", at: l) }
        let target: InitRule.Target
        let text: String
        switch t.kind {
        case .ident:
            pos += 1
            let parts = t.text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ZooError(.syntax, "an init target is KIND.PARAMETER (Conv2d.weight) or a quoted module path and a parameter (\"AuxLogits.fc\".weight), got '\(t.text)'", at: l)
            }
            text = t.text
            target = .kind(parts[0], parameter: parts[1])
            try Self.checkKind(parts[0], parts[1], at: l, rule: "init " + text)
        case .string(let pattern) where !pattern.isEmpty:
            pos += 1
            if accept(".") {
                let p = try name("parameter name")
                text = "\"\(pattern)\".\(p)"
                target = .keys(pattern: pattern + "." + p)
            } else {
                text = "\"\(pattern)\""
                target = .keys(pattern: pattern)
            }
        default:
            throw ZooError(.syntax, "expected an init target (Conv2d.weight or \"AuxLogits.fc\".weight) but found '\(t.text)'", at: l)
        }
        let rule = "init " + text
        try expect("=")
        let fl = location()
        guard let ft = peek(), ft.kind == .ident else {
            throw ZooError(.syntax, "expected an init function (normal, kaiming_normal, zeros, …)" + (peek().map { " but found '\($0.text)'" } ?? " at end of line"), at: fl)
        }
        pos += 1
        guard let sig = InitFunctions.signatures[ft.text] else {
            let known = InitFunctions.signatures.keys.sorted().joined(separator: ", ")
            throw ZooError(.unknownLayer, "unknown init function '\(ft.text)' (torch.nn.init's, without the trailing underscore: \(known))", at: fl, module: rule)
        }
        var positional: [ZooValue] = [], keywords: [(String, ZooValue)] = []
        if accept("(") {
            if !peekPunct(")") {
                repeat {
                    if let k = peek(), k.kind == .ident, peekPunct("=", offset: 1) {
                        pos += 2
                        keywords.append((k.text, try value()))
                    } else {
                        guard keywords.isEmpty else { throw ZooError(.syntax, "positional argument follows keyword argument", at: location(), module: rule) }
                        positional.append(try value())
                    }
                } while accept(",")
            }
            try expect(")")
        }
        let bound: BoundArguments
        do { bound = try sig.bind(positional: positional, keywords: keywords, callee: ft.text) } catch {
            throw ZooError(error.kind, error.message, at: fl, module: rule)
        }
        let function = InitFunction(name: ft.text, arguments: bound, location: fl)
        try InitFunctions.check(function, rule: rule)
        var condition: Condition? = nil
        if peekIdent("if") {
            pos += 1
            let cl = location()
            var neg = false
            if peekIdent("not") { pos += 1; neg = true }
            condition = Condition(name: try name("condition"), negated: neg, location: cl)
        }
        try end()
        return InitRule(target: target, targetText: text, function: function, condition: condition, location: l)
    }

    /// `KIND.PARAMETER`: a module class the zoo can write, and one of the parameters torch gives it.
    static func checkKind(_ kind: String, _ parameter: String, at l: SourceLocation, rule: String) throws(ZooError) {
        guard let entry = LayerFactory.modules[kind] else {
            let withParameters = LayerFactory.modules.filter { !$0.value.kind.torchInit.isEmpty }.keys.sorted().joined(separator: ", ")
            throw ZooError(.unknownLayer, "unknown layer kind '\(kind)' (kinds with parameters: \(withParameters); a module path goes in quotes: \"fc\".weight)", at: l, module: rule)
        }
        let names = entry.kind.torchInit.map(\.parameter)
        guard names.contains(parameter) else {
            throw ZooError(.unknownParameter, names.isEmpty ? "\(kind) has no parameters"
                           : "\(kind) has no parameter '\(parameter)' (its parameters: \(names.joined(separator: ", ")))", at: l, module: rule)
        }
    }
}
