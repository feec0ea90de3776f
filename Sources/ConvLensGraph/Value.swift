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
    /// An arithmetic expression (`planes * 4`, `(k - 1) // 2`), evaluated when names resolve:
    /// `op` is one of + - * // / and the one-operand "neg" and "sqrt" (`sqrt(5)`, `math.sqrt(x)`).
    indirect case expr(op: String, operands: [ZooValue])

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
        case .expr(let op, let xs):
            if op == "neg" { return "-" + xs[0].operandText }
            if op == "sqrt" { return "sqrt(\(xs[0]))" }
            return xs[0].operandText + " \(op) " + xs[1].operandText
        }
    }

    var operandText: String { if case .expr(let op, _) = self, op != "neg", op != "sqrt" { return "(\(description))" }; return description }

    /// Whether the value names a parameter or holds an expression (anywhere inside a tuple):
    /// only then does the builder resolve it against an environment.
    var needsResolving: Bool {
        switch self {
        case .ident, .expr: return true
        case .tuple(let vs): return vs.contains { $0.needsResolving }
        case .int, .float, .bool, .string, .null: return false
        }
    }

    /// The same value written the same way: unlike `==`, `-0.0` is not `0.0`, and NaN is NaN.
    func isIdentical(to other: ZooValue) -> Bool {
        switch (self, other) {
        case (.float(let a), .float(let b)): return a.bitPattern == b.bitPattern
        case (.tuple(let a), .tuple(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.isIdentical(to: $1) }
        case (.expr(let o, let a), .expr(let p, let b)): return o == p && a.count == b.count && zip(a, b).allSatisfy { $0.isIdentical(to: $1) }
        default: return self == other
        }
    }

    /// Appends the parameter names the value uses that `names` does not hold yet.
    func collectNames(into names: inout [String]) {
        switch self {
        case .ident(let n): if !names.contains(n) { names.append(n) }
        case .tuple(let vs): for v in vs { v.collectNames(into: &names) }
        case .expr(_, let xs): for v in xs { v.collectNames(into: &names) }
        case .int, .float, .bool, .string, .null: break
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
        case .expr: return "expression"
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

/// Python arithmetic on resolved values: int op int stays int for + - * //, `/` is true division,
/// anything with a float is float. Integer overflow and division by zero are errors.
public enum ZooArithmetic {
    public static func evaluate(_ op: String, _ xs: [ZooValue]) -> Result<ZooValue, ShapeProblem> {
        if op == "neg" {
            switch xs[0] {
            case .int(let i) where i != Int.min: return .success(.int(-i))
            case .float(let d): return .success(.float(-d))
            default: return .failure(ShapeProblem(.badArgument, "cannot negate \(xs[0]) (\(xs[0].typeName))"))
            }
        }
        if op == "sqrt" {
            guard let x = xs[0].doubleValue, xs[0].boolValue == nil else {
                return .failure(ShapeProblem(.badArgument, "sqrt needs a number, got \(xs[0]) (\(xs[0].typeName))"))
            }
            guard x >= 0 else { return .failure(ShapeProblem(.badArgument, "math domain error: sqrt(\(xs[0]))")) }
            return .success(.float(x.squareRoot()))
        }
        let a = xs[0], b = xs[1]
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case "+": let (r, o) = x.addingReportingOverflow(y); return o ? overflow(a, op, b) : .success(.int(r))
            case "-": let (r, o) = x.subtractingReportingOverflow(y); return o ? overflow(a, op, b) : .success(.int(r))
            case "*": let (r, o) = x.multipliedReportingOverflow(by: y); return o ? overflow(a, op, b) : .success(.int(r))
            case "//":
                guard y != 0 else { return .failure(ShapeProblem(.badArgument, "integer division by zero in \(a) // \(b)")) }
                guard !(x == Int.min && y == -1) else { return overflow(a, op, b) }
                var q = x / y
                if (x % y != 0) && ((x < 0) != (y < 0)) { q -= 1 }     // Python floors
                return .success(.int(q))
            case "/":
                guard y != 0 else { return .failure(ShapeProblem(.badArgument, "division by zero in \(a) / \(b)")) }
                return .success(.float(Double(x) / Double(y)))
            default: break
            }
        }
        guard let x = a.doubleValue, let y = b.doubleValue, a.boolValue == nil, b.boolValue == nil else {
            return .failure(ShapeProblem(.badArgument, "cannot compute \(a) \(op) \(b): arithmetic needs numbers, got \(a.typeName) and \(b.typeName)"))
        }
        switch op {
        case "+": return .success(.float(x + y))
        case "-": return .success(.float(x - y))
        case "*": return .success(.float(x * y))
        case "/":
            guard y != 0 else { return .failure(ShapeProblem(.badArgument, "division by zero in \(a) / \(b)")) }
            return .success(.float(x / y))
        case "//":
            guard y != 0 else { return .failure(ShapeProblem(.badArgument, "division by zero in \(a) // \(b)")) }
            return .success(.float((x / y).rounded(.down)))
        default: return .failure(ShapeProblem(.badArgument, "unknown operator '\(op)'"))
        }
    }

    static func overflow(_ a: ZooValue, _ op: String, _ b: ZooValue) -> Result<ZooValue, ShapeProblem> {
        .failure(ShapeProblem(.badArgument, "\(a) \(op) \(b) overflows a 64-bit integer"))
    }

    /// Folds an expression whose operands are all literals; leaves names for the graph builder.
    public static func fold(_ v: ZooValue) -> ZooValue {
        switch v {
        case .expr(let op, let xs):
            let fx = xs.map(fold)
            if fx.allSatisfy({ if case .expr = $0 { return false }; if case .ident = $0 { return false }; if case .tuple = $0 { return false }; return true }),
               case .success(let r) = evaluate(op, fx) { return r }
            return .expr(op: op, operands: fx)
        case .tuple(let xs): return .tuple(xs.map(fold))
        default: return v
        }
    }
}
