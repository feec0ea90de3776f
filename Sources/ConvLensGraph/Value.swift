/// A literal in a zoo file, kept as written so the printer can reproduce Python's repr
/// (`kernel_size=3` and `kernel_size=(3, 3)` print differently in torch).
public enum ZooValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    case null
    case tuple([ZooValue])
    /// A name to resolve against block or model parameters.
    case ident(String)

    /// Python's `repr` of the value.
    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return pythonFloatRepr(v)
        case .bool(let v): return v ? "True" : "False"
        case .string(let s): return "'\(s)'"
        case .null: return "None"
        case .tuple(let vs):
            if vs.count == 1 { return "(\(vs[0]),)" }
            return "(" + vs.map(\.description).joined(separator: ", ") + ")"
        case .ident(let n): return n
        }
    }

    public var intValue: Int? { if case .int(let v) = self { return v }; return nil }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .float(let v): return v
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let v) = self { return v }; return nil }

    /// A name for the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .string: return "str"
        case .null: return "None"
        case .tuple: return "tuple"
        case .ident: return "name"
        }
    }
}

/// Python's float repr: shortest round-trip digits, exponent form when exp < -4 or >= 16,
/// always a `.0` on integral values.
public func pythonFloatRepr(_ v: Double) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v < 0 ? "-inf" : "inf" }
    if v == 0 { return v.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description is also shortest round-trip; only the layout differs.
    let s = "\(v)"
    let neg = s.hasPrefix("-")
    let body = neg ? String(s.dropFirst()) : s
    // Split into digits and decimal exponent.
    var mantissa = body
    var exp = 0
    if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = String(body[..<e])
        exp = Int(body[body.index(after: e)...])!
    }
    var intPart = mantissa
    var frac = ""
    if let dot = mantissa.firstIndex(of: ".") {
        intPart = String(mantissa[..<dot]); frac = String(mantissa[mantissa.index(after: dot)...])
    }
    var digits = intPart + frac
    var pointPos = intPart.count + exp          // decimal point after this many digits
    // strip leading zeros
    while digits.count > 1 && digits.hasPrefix("0") { digits.removeFirst(); pointPos -= 1 }
    while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
    let sciExp = pointPos - 1
    var out: String
    if sciExp < -4 || sciExp >= 16 {
        let first = digits.prefix(1)
        let rest = digits.dropFirst()
        out = String(first) + (rest.isEmpty ? "" : "." + rest)
        let sign = sciExp < 0 ? "-" : "+"
        let mag = abs(sciExp)
        out += "e" + sign + (mag < 10 ? "0" : "") + String(mag)
    } else if pointPos <= 0 {
        out = "0." + String(repeating: "0", count: -pointPos) + digits
    } else if pointPos >= digits.count {
        out = digits + String(repeating: "0", count: pointPos - digits.count) + ".0"
    } else {
        let i = digits.index(digits.startIndex, offsetBy: pointPos)
        out = String(digits[..<i]) + "." + String(digits[i...])
    }
    return neg ? "-" + out : out
}
