/// Tokens of one zoo line.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case ident      // names, dotted names (F.relu), keywords
        case int(Int)
        case float(Double)
        case string(String)
        case punct(String)   // = ( ) , { } <- @ $in
    }
    var kind: Kind
    var text: String
    var column: Int
}

enum ZooLexer {
    /// Splits one line into tokens; `#` starts a comment outside strings.
    static func tokens(_ line: Substring, lineNo: Int, file: String) throws(ZooError) -> [Token] {
        var out: [Token] = []
        let chars = Array(line)
        var i = 0
        func loc(_ c: Int) -> SourceLocation { SourceLocation(file: file, line: lineNo, column: c + 1) }
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\r" { i += 1; continue }
            if c == "#" { break }
            let start = i
            if c.isLetter || c == "_" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
                out.append(Token(kind: .ident, text: String(chars[start..<i]), column: start + 1))
            } else if c.isNumber || ((c == "-" || c == ".") && i + 1 < chars.count && chars[i + 1].isNumber) {
                i += 1
                var isFloat = c == "."
                while i < chars.count {
                    let d = chars[i]
                    if d.isNumber { i += 1 }
                    else if d == "." { isFloat = true; i += 1 }
                    else if (d == "e" || d == "E") { isFloat = true; i += 1; if i < chars.count, chars[i] == "-" || chars[i] == "+" { i += 1 } }
                    else { break }
                }
                let text = String(chars[start..<i])
                if isFloat {
                    guard let v = Double(text) else { throw ZooError(.syntax, "bad number '\(text)'", at: loc(start)) }
                    out.append(Token(kind: .float(v), text: text, column: start + 1))
                } else {
                    guard let v = Int(text) else { throw ZooError(.syntax, "bad number '\(text)'", at: loc(start)) }
                    out.append(Token(kind: .int(v), text: text, column: start + 1))
                }
            } else if c == "\"" || c == "'" {
                i += 1
                var s = ""
                while i < chars.count, chars[i] != c { s.append(chars[i]); i += 1 }
                guard i < chars.count else { throw ZooError(.syntax, "unterminated string", at: loc(start)) }
                i += 1
                out.append(Token(kind: .string(s), text: s, column: start + 1))
            } else if c == "<" && i + 1 < chars.count && chars[i + 1] == "-" {
                i += 2
                out.append(Token(kind: .punct("<-"), text: "<-", column: start + 1))
            } else if c == "$" {
                i += 1
                while i < chars.count, chars[i].isLetter { i += 1 }
                let text = String(chars[start..<i])
                guard text == "$in" else { throw ZooError(.syntax, "unknown input '\(text)' (the block input is $in)", at: loc(start)) }
                out.append(Token(kind: .punct("$in"), text: text, column: start + 1))
            } else if "=(),{}@".contains(c) {
                i += 1
                out.append(Token(kind: .punct(String(c)), text: String(c), column: start + 1))
            } else {
                throw ZooError(.syntax, "unexpected character '\(c)'", at: loc(start))
            }
        }
        return out
    }
}
