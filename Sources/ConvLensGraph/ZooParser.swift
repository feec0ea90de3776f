/// Parses zoo text into a `ZooFile`. Line oriented: one statement per line, `{ … }` bodies.
public enum ZooParser {
    public static func parse(_ text: String, file: String) throws(ZooError) -> ZooFile {
        var lines: [(no: Int, tokens: [Token])] = []
        let bytes = Array(text.utf8)
        var start = 0, lineNo = 1
        while start <= bytes.count {
            let end = bytes[start...].firstIndex(of: 10) ?? bytes.count      // '\n'
            let toks = try ZooLexer.tokens(bytes[start..<end], lineNo: lineNo, file: file)
            if !toks.isEmpty { lines.append((lineNo, toks)) }
            start = end + 1
            lineNo += 1
        }
        var p = Cursor(lines: lines, file: file)
        return try p.parseFile()
    }
}

private struct Cursor {
    let lines: [(no: Int, tokens: [Token])]
    let file: String
    var index = 0
    /// How deeply `{ … }` bodies nest here; bounded so a pathological file is an error, not a stack overflow.
    var bodyDepth = 0
    static let maxBodyDepth = 128
    /// The next statement's `id`.
    var statementCount = 0

    func loc(_ line: Int, _ t: Token?) -> SourceLocation {
        SourceLocation(file: file, line: line, column: t?.column ?? 1)
    }

    mutating func parseFile() throws(ZooError) -> ZooFile {
        var f = ZooFile(path: file)
        while index < lines.count {
            let (no, toks) = lines[index]
            var r = LineReader(tokens: toks, line: no, file: file)
            let head = toks[0]
            if head.kind == .ident, ["model", "input", "param", "meta", "train", "init", "block"].contains(head.text),
               toks.count > 1, toks[1].kind != .punct("="), toks[1].kind != .punct("<-") {
                r.pos = 1
                switch head.text {
                case "model":
                    f.name = try r.name("model name")
                    if r.peekIdent("class") { r.pos += 1; f.className = try r.name("class name") } else { f.className = f.name }
                    try r.end()
                    index += 1
                case "input":
                    f.inputLocation = r.location()
                    var dims: [Int] = []
                    while let t = r.peek(), case .int(let v) = t.kind { dims.append(v); r.pos += 1 }
                    guard dims.count == 4, dims.allSatisfy({ $0 > 0 }) else {
                        throw ZooError(.syntax, "input needs four positive sizes: input N C H W", at: f.inputLocation)
                    }
                    try r.end()
                    f.input = dims
                    index += 1
                case "param", "meta", "train":
                    let l = r.location()
                    let key = try r.name("\(head.text) name")
                    try r.expect("=")
                    let v = try r.value()
                    try r.end()
                    if head.text == "param" {
                        if f.params.contains(where: { $0.name == key }) { throw ZooError(.syntax, "param '\(key)' declared twice", at: l) }
                        f.params.append(ParamDecl(name: key, defaultValue: v, location: l))
                    } else if head.text == "meta" { f.meta.append((key, v)) } else {
                        try ZooFile.checkTrainLine(key, v, at: l)
                        f.train.append((key, v))
                    }
                    index += 1
                case "init":
                    let rule = try r.initRule()
                    if rule.condition == nil, let first = f.inits.first(where: { $0.targetText == rule.targetText && $0.condition == nil }) {
                        throw ZooError(.initRule, "stated twice (first on line \(first.location.line))", at: rule.location, module: rule.name)
                    }
                    f.inits.append(rule)
                    index += 1
                default: // block
                    let l = r.location()
                    let name = try r.name("block name")
                    try r.expect("(")
                    var params: [(String, ZooValue?)] = []
                    if !r.peekPunct(")") {
                        repeat {
                            let pn = try r.name("block parameter")
                            var d: ZooValue? = nil
                            if r.peekPunct("=") { r.pos += 1; d = try r.value() }
                            params.append((pn, d))
                        } while r.accept(",")
                    }
                    try r.expect(")")
                    var cls = name
                    if r.peekIdent("class") { r.pos += 1; cls = try r.name("class name") }
                    try r.expect("{")
                    try r.end()
                    index += 1
                    let body = try parseBody(closing: l, what: "block \(name)")
                    if f.blocks[name] != nil { throw ZooError(.syntax, "block '\(name)' defined twice", at: l) }
                    f.blocks[name] = BlockDef(name: name, className: cls, params: params, body: body, location: l)
                }
            } else {
                f.body.append(try parseStatement())
            }
        }
        if f.name.isEmpty { throw ZooError(.syntax, "missing 'model NAME' line", at: SourceLocation(file: file, line: 1, column: 1)) }
        if f.input.isEmpty { throw ZooError(.syntax, "missing 'input N C H W' line", at: SourceLocation(file: file, line: 1, column: 1)) }
        if f.body.isEmpty { throw ZooError(.syntax, "model '\(f.name)' has no layers", at: SourceLocation(file: file, line: 1, column: 1)) }
        return f
    }

    /// Statements up to the matching `}`.
    mutating func parseBody(closing open: SourceLocation, what: String) throws(ZooError) -> [Statement] {
        bodyDepth += 1
        defer { bodyDepth -= 1 }
        guard bodyDepth <= Cursor.maxBodyDepth else {
            throw ZooError(.syntax, "bodies nest more than \(Cursor.maxBodyDepth) levels deep here", at: open)
        }
        var body: [Statement] = []
        while index < lines.count {
            let toks = lines[index].tokens
            if toks.count == 1, toks[0].kind == .punct("}") { index += 1; return body }
            body.append(try parseStatement())
        }
        throw ZooError(.syntax, "\(what) opened here is never closed with '}'", at: open)
    }

    mutating func parseStatement() throws(ZooError) -> Statement {
        let (no, toks) = lines[index]
        var r = LineReader(tokens: toks, line: no, file: file)
        var form = Statement.Form.call
        if r.peekIdent("module"), toks.count > 1, toks[1].kind != .punct("="), toks[1].kind != .punct("<-") {
            r.pos += 1; form = .declare
        }
        let nameLoc = r.location()
        let name = try r.name("layer name")
        var st = Statement(form: form, name: name, nameLocation: nameLoc)
        st.id = statementCount
        statementCount += 1
        if r.accept("=") {
            if form == .call { st.form = .define }
            st.calleeLocation = r.location()
            st.callee = try r.name("layer type")
            if r.accept("(") {
                st.hasArgumentList = true
                if !r.peekPunct(")") {
                    repeat {
                        let al = r.location()
                        if let t = r.peek(), t.kind == .ident, r.peekPunct("=", offset: 1) {
                            r.pos += 2
                            st.arguments.append(CallArgument(keyword: t.text, value: try r.value(), location: al))
                        } else {
                            st.arguments.append(CallArgument(keyword: nil, value: try r.value(), location: al))
                        }
                    } while r.accept(",")
                }
                try r.expect(")")
                if r.accept("[") {                       // torch.chunk(2, dim=1)[0]
                    let l = r.location()
                    guard let t = r.peek(), case .int(let k) = t.kind, k >= 0 else {
                        throw ZooError(.syntax, "expected a piece number in '[…]'", at: l)
                    }
                    r.pos += 1
                    try r.expect("]")
                    st.arguments.append(CallArgument(keyword: "index", value: .int(k), location: l))
                }
                for a in st.arguments { a.value.collectNames(into: &st.references) }
            }
            if st.callee == "Sequential" && r.peekIdent("class") {
                r.pos += 1
                st.sequentialClass = try r.name("class name")
            }
        } else if form == .declare {
            throw ZooError(.syntax, "'module \(name)' needs '= Type(...)'", at: r.location())
        }
        var opensBody = false
        while let t = r.peek() {
            if t.kind == .punct("<-") {
                guard form != .declare else { throw ZooError(.syntax, "a 'module' declaration does not run, so it takes no inputs", at: r.location()) }
                r.pos += 1
                var ins: [(String, SourceLocation)] = []
                repeat {
                    let l = r.location()
                    if r.accept("$in") { ins.append(("$in", l)) } else { ins.append((try r.name("input name"), l)) }
                } while r.accept(",")
                st.inputs = ins
            } else if t.kind == .ident && t.text == "if" {
                r.pos += 1
                let l = r.location()
                var neg = false
                if r.peekIdent("not") { r.pos += 1; neg = true }
                st.condition = Condition(name: try r.name("condition"), negated: neg, location: l)
            } else if t.kind == .punct("@") {
                r.pos += 1
                let l = r.location()
                let tag = try r.name("tag")
                guard tag == "train" else { throw ZooError(.syntax, "unknown tag '@\(tag)' (only @train)", at: l) }
                st.trainOnly = true
            } else if t.kind == .punct("{") {
                r.pos += 1; opensBody = true
                try r.end()
                break
            } else {
                throw ZooError(.syntax, "unexpected '\(t.text)'", at: r.location())
            }
        }
        index += 1
        if opensBody {
            guard st.callee == "Sequential" else {
                throw ZooError(.syntax, "only Sequential takes a { … } body", at: st.calleeLocation ?? nameLoc)
            }
            st.children = try parseBody(closing: nameLoc, what: "Sequential \(name)")
        } else if st.callee == "Sequential" {
            guard st.hasArgumentList, st.arguments.isEmpty else {
                throw ZooError(.syntax, "Sequential needs a body: '\(name) = Sequential {' … '}' (or 'Sequential()' for an empty one)", at: st.calleeLocation ?? nameLoc)
            }
            st.children = []
        }
        return st
    }
}

struct LineReader {
    let tokens: [Token]
    let line: Int
    let file: String
    var pos = 0

    func location() -> SourceLocation {
        let col = pos < tokens.count ? tokens[pos].column : (tokens.last.map { $0.column + $0.text.count } ?? 1)
        return SourceLocation(file: file, line: line, column: col)
    }
    func peek() -> Token? { pos < tokens.count ? tokens[pos] : nil }
    func peekIdent(_ s: String) -> Bool { peek().map { $0.kind == .ident && $0.text == s } ?? false }
    func peekPunct(_ s: String, offset: Int = 0) -> Bool {
        pos + offset < tokens.count && tokens[pos + offset].kind == .punct(s)
    }
    mutating func accept(_ p: String) -> Bool {
        if peekPunct(p) { pos += 1; return true }
        return false
    }
    mutating func expect(_ p: String) throws(ZooError) {
        guard accept(p) else { throw ZooError(.syntax, "expected '\(p)'" + (peek().map { " but found '\($0.text)'" } ?? " at end of line"), at: location()) }
    }
    mutating func end() throws(ZooError) {
        if let t = peek() { throw ZooError(.syntax, "unexpected '\(t.text)'", at: location()) }
    }
    /// A name: an identifier, or an integer (Sequential children are named 0, 1, …).
    mutating func name(_ what: String) throws(ZooError) -> String {
        guard let t = peek() else { throw ZooError(.syntax, "expected \(what) at end of line", at: location()) }
        switch t.kind {
        case .ident: pos += 1; return t.text
        case .int(let v) where v >= 0: pos += 1; return String(v)
        case .string(let s) where !s.isEmpty && !s.contains(".") && !s.contains(" "): pos += 1; return s   // "block1-0"
        default: throw ZooError(.syntax, "expected \(what) but found '\(t.text)'", at: location())
        }
    }
    /// A value: a literal, a name, a tuple, or an arithmetic expression over them
    /// (`+ - * // /`, unary minus, parentheses), folded when every operand is a literal.
    mutating func value() throws(ZooError) -> ZooValue {
        depth = 0
        return ZooArithmetic.fold(try additive())
    }

    private mutating func additive() throws(ZooError) -> ZooValue {
        var v = try multiplicative()
        while let t = peek(), t.kind == .punct("+") || t.kind == .punct("-") {
            pos += 1
            v = .expr(op: t.text, operands: [v, try multiplicative()])
        }
        return v
    }

    private mutating func multiplicative() throws(ZooError) -> ZooValue {
        var v = try unary()
        while let t = peek(), t.kind == .punct("*") || t.kind == .punct("//") || t.kind == .punct("/") {
            pos += 1
            v = .expr(op: t.text, operands: [v, try unary()])
        }
        return v
    }

    private mutating func unary() throws(ZooError) -> ZooValue {
        if accept("-") {
            depth += 1
            guard depth <= 64 else { throw ZooError(.syntax, "values nest too deeply (more than 64 signs or parentheses)", at: location()) }
            defer { depth -= 1 }
            return .expr(op: "neg", operands: [try unary()])
        }
        return try primary()
    }

    var depth = 0

    private mutating func primary() throws(ZooError) -> ZooValue {
        guard let t = peek() else { throw ZooError(.syntax, "expected a value at end of line", at: location()) }
        switch t.kind {
        case .int(let v): pos += 1; return .int(v)
        case .float(let v): pos += 1; return .float(v)
        case .string(let s): pos += 1; return .string(s)
        case .ident:
            pos += 1
            switch t.text {
            case "True", "true": return .bool(true)
            case "False", "false": return .bool(false)
            case "None": return .null
            case "sqrt" where peekPunct("("), "math.sqrt" where peekPunct("("):   // the one function a value may call
                pos += 1
                depth += 1
                guard depth <= 64 else { throw ZooError(.syntax, "values nest too deeply (more than 64 signs or parentheses)", at: location()) }
                let x = try additive()
                try expect(")")
                depth -= 1
                return .expr(op: "sqrt", operands: [x])
            default: return .ident(t.text)
            }
        case .punct(let open) where open == "(" || open == "[":
            let close = open == "(" ? ")" : "]"
            depth += 1
            guard depth <= 64 else { throw ZooError(.syntax, "values nest too deeply (more than 64 signs or parentheses)", at: location()) }
            pos += 1
            var items: [ZooValue] = []
            var sawComma = false
            if !peekPunct(close) {
                repeat {
                    if peekPunct(close) { break }   // trailing comma: (3,)
                    items.append(try additive())
                    if peekPunct(",") { sawComma = true }
                } while accept(",")
            }
            try expect(close)
            depth -= 1
            // Python: (x) is x itself; (x,) and [x] are sequences.
            if open == "(" && items.count == 1 && !sawComma { return items[0] }
            return .tuple(items)
        default:
            throw ZooError(.syntax, "expected a value but found '\(t.text)'", at: location())
        }
    }

}
