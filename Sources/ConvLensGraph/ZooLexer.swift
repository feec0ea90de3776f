/// Tokens of one zoo line.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case ident      // names, dotted names (F.relu), keywords
        case int(Int)
        case float(Double)
        case string(String)
        case punct(String)   // = ( ) , { } <- @ $in .
    }
    var kind: Kind
    var text: String
    var column: Int
}

enum ZooLexer {
    /// Splits one line into tokens; `#` starts a comment outside strings. Works on UTF-8 bytes:
    /// names, numbers and punctuation are ASCII; strings and comments may hold any text.
    static func tokens(_ line: ArraySlice<UInt8>, lineNo: Int, file: String) throws(ZooError) -> [Token] {
        var out: [Token] = []
        let bytes = Array(line)
        var i = 0
        func loc(_ c: Int) -> SourceLocation { SourceLocation(file: file, line: lineNo, column: column(c)) }
        // Columns count characters, not bytes.
        let ascii = !bytes.contains { $0 >= 128 }
        func column(_ byteOffset: Int) -> Int {
            ascii ? byteOffset + 1 : String(decoding: bytes[0..<byteOffset], as: UTF8.self).count + 1
        }
        func isLetter(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 }
        func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
        func text(_ a: Int, _ b: Int) -> String { String(decoding: bytes[a..<b], as: UTF8.self) }
        while i < bytes.count {
            let c = bytes[i]
            if c == 32 || c == 9 || c == 13 { i += 1; continue }
            if c == 35 { break }                                   // '#'
            let start = i
            if isLetter(c) {
                while i < bytes.count, isLetter(bytes[i]) || isDigit(bytes[i]) || bytes[i] == 46 { i += 1 }
                out.append(Token(kind: .ident, text: text(start, i), column: column(start)))
            } else if isDigit(c) || ((c == 45 && !afterValue(out) || c == 46) && i + 1 < bytes.count && isDigit(bytes[i + 1])) {
                i += 1
                var isFloat = c == 46
                while i < bytes.count {
                    let d = bytes[i]
                    if isDigit(d) { i += 1 }
                    else if d == 46 { isFloat = true; i += 1 }
                    else if d == 101 || d == 69 { isFloat = true; i += 1; if i < bytes.count, bytes[i] == 45 || bytes[i] == 43 { i += 1 } }
                    else { break }
                }
                let t = text(start, i)
                if isFloat {
                    guard let v = Double(t) else { throw ZooError(.syntax, "bad number '\(t)'", at: loc(start)) }
                    out.append(Token(kind: .float(v), text: t, column: column(start)))
                } else {
                    guard let v = Int(t) else { throw ZooError(.syntax, "bad number '\(t)'", at: loc(start)) }
                    out.append(Token(kind: .int(v), text: t, column: column(start)))
                }
            } else if c == 34 || c == 39 {                          // " or '
                i += 1
                while i < bytes.count, bytes[i] != c { i += 1 }
                guard i < bytes.count else { throw ZooError(.syntax, "unterminated string", at: loc(start)) }
                let s = text(start + 1, i)
                i += 1
                out.append(Token(kind: .string(s), text: s, column: column(start)))
            } else if c == 60 && i + 1 < bytes.count && bytes[i + 1] == 45 {   // <-
                i += 2
                out.append(Token(kind: .punct("<-"), text: "<-", column: column(start)))
            } else if c == 36 {                                     // $
                i += 1
                while i < bytes.count, isLetter(bytes[i]) { i += 1 }
                let t = text(start, i)
                guard t == "$in" else { throw ZooError(.syntax, "unknown input '\(t)' (the block input is $in)", at: loc(start)) }
                out.append(Token(kind: .punct("$in"), text: t, column: column(start)))
            } else if c == 47 {                                     // / or //
                let two = i + 1 < bytes.count && bytes[i + 1] == 47
                i += two ? 2 : 1
                out.append(Token(kind: .punct(two ? "//" : "/"), text: two ? "//" : "/", column: column(start)))
            } else if let p = punctuation[c] {
                i += 1
                out.append(Token(kind: .punct(p), text: p, column: column(start)))
            } else {
                var end = i + 1
                while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }   // the whole UTF-8 character
                throw ZooError(.syntax, "unexpected character '\(text(i, end))'", at: loc(start))
            }
        }
        return out
    }

    static let punctuation: [UInt8: String] = [61: "=", 40: "(", 41: ")", 44: ",", 123: "{", 125: "}", 64: "@",
                                               43: "+", 45: "-", 42: "*", 91: "[", 93: "]",
                                               46: "."]   // after a string: `init "AuxLogits.fc".weight`

    /// Whether the last token ends a value, so a following '-' is a minus sign (`k-1`), not a negative number.
    static func afterValue(_ out: [Token]) -> Bool {
        guard let t = out.last else { return false }
        switch t.kind {
        case .ident, .int, .float, .string: return true
        case .punct(let p): return p == ")" || p == "]"
        }
    }
}
