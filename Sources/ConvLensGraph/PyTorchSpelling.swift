/// One zoo call as Python source, handed to a layer kind's `pytorch(_:)` by the PyTorch exporter
/// (`convlens export --format pytorch`). The arguments are what the zoo file wrote, already in
/// Python (names of params stay names: the generated classes take the same params).
public struct PyTorchCall: Sendable {
    /// The constructor or function the zoo file wrote: `Conv2d`, `SiLU`, `LayerNorm2d`, `F.relu`, `torch.cat`.
    public var callee: String
    /// Whether the call is the functional form (`F.relu`, `torch.cat`, `add`) rather than a module constructor.
    public var isFunction: Bool
    /// The written arguments as Python source, in order.
    public var arguments: [(keyword: String?, text: String)]
    /// Functional form: the inputs as Python expressions (`x`, `branch1`, `*inputs`).
    public var inputs: [String]
    /// The Python expression of the calling module's training flag.
    public var training: String

    public init(callee: String, isFunction: Bool, arguments: [(keyword: String?, text: String)], inputs: [String], training: String = "self.training") {
        self.callee = callee; self.isFunction = isFunction; self.arguments = arguments; self.inputs = inputs; self.training = training
    }

    /// The written argument list: `1, 8, kernel_size=(3, 3)`.
    public var argumentList: String { Self.list(arguments) }
    /// The single input of a one-input function.
    public var input: String { inputs.first ?? "x" }

    /// `name(input, arguments…)`: the functional form of most torch calls.
    public func call(_ name: String, extra: [(keyword: String?, text: String)] = []) -> String {
        "\(name)(" + Self.list([(nil, input)] + arguments + extra) + ")"
    }

    /// The argument `name` as written, by keyword or by its position in `signature`; nil when left to its default.
    public func argument(_ name: String, in signature: Signature) -> String? {
        if let k = arguments.first(where: { $0.keyword == name }) { return k.text }
        guard let i = signature.params.firstIndex(where: { $0.name == name }) else { return nil }
        let positional = arguments.filter { $0.keyword == nil }
        return i < positional.count ? positional[i].text : nil
    }

    /// The argument `name` as written, else its default as Python.
    public func value(_ name: String, in signature: Signature) -> String {
        argument(name, in: signature) ?? signature.params.first { $0.name == name }?.defaultValue.map(PyTorchCall.python) ?? "None"
    }

    static func list(_ a: [(keyword: String?, text: String)]) -> String {
        a.map { ($0.keyword.map { $0 + "=" } ?? "") + $0.text }.joined(separator: ", ")
    }

    /// A literal value as Python source (names as themselves).
    public static func python(_ v: ZooValue) -> String { PyTorchSource.expression(v, name: { $0 }) }
}

/// How PyTorch writes one use of a layer kind.
public enum PyTorchSpelling: Sendable {
    /// A module constructor (`nn.Conv2d(1, 8, kernel_size=(3, 3))`) and the helpers it needs.
    case module(String, helpers: [PyTorchHelper] = [])
    /// A forward expression (`F.relu(x, inplace=True)`, `torch.cat([a, b], 1)`) and the helpers it needs.
    case function(String, helpers: [PyTorchHelper] = [])
    /// A tensor the enclosing module owns itself (`nn.Parameter(torch.ones(dim, 1, 1))`).
    case parameter(String)
    /// PyTorch has no equivalent; the reason, for a one-line error.
    case unsupported(String)
}

/// A definition model.py must contain once for a kind that plain torch lacks (torchvision's
/// `StochasticDepth`, `Permute`, `LayerNorm2d`, shufflenet's `channel_shuffle`): model.py imports
/// torch only.
public struct PyTorchHelper: Sendable, Hashable {
    public var name: String
    public var source: String
    public init(name: String, source: String) { self.name = name; self.source = source }
}

/// Python source text of zoo values.
public enum PyTorchSource {
    /// A zoo value as a Python expression; `name` maps a param's name to its Python variable.
    public static func expression(_ v: ZooValue, name: (String) -> String) -> String {
        switch v {
        case .int(let i): return String(i)
        case .float(let d): return pythonFloatRepr(d)
        case .bool(let b): return b ? "True" : "False"
        case .string(let s): return string(s)
        case .null: return "None"
        case .tuple(let vs):
            if vs.count == 1 { return "(\(expression(vs[0], name: name)),)" }
            return "(" + vs.map { expression($0, name: name) }.joined(separator: ", ") + ")"
        case .ident(let n): return name(n)
        case .expr(let op, let xs):
            func operand(_ x: ZooValue) -> String {
                if case .expr(let o, _) = x, o != "neg", o != "sqrt" { return "(" + expression(x, name: name) + ")" }
                return expression(x, name: name)
            }
            if op == "neg" { return "-" + operand(xs[0]) }
            if op == "sqrt" { return "math.sqrt(\(expression(xs[0], name: name)))" }
            return operand(xs[0]) + " \(op) " + operand(xs[1])
        }
    }

    /// A Python string literal in single quotes (Python's own repr style).
    public static func string(_ s: String) -> String {
        var out = "'"
        for c in s.unicodeScalars {
            switch c {
            case "'": out += "\\'"
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "'"
    }
}
