import Foundation

/// One `init TARGET = FUNCTION(args) [if [not] PARAM]` line: how `--init default` fills a
/// parameter (zoo/README.md, "Initialisation"). Path rules beat kind rules, kind rules beat the
/// kind's own torch default (`LayerSpec.torchInit`); among rules of one level a later line wins,
/// as a later `for m in self.modules()` loop overwrites an earlier one in torchvision.
public struct InitRule: Sendable {
    public enum Target: Sendable, Hashable {
        /// `Conv2d.weight`: that parameter of every module of the class `print(model)` shows.
        case kind(String, parameter: String)
        /// `"AuxLogits.fc".weight` or `"*.layer_scale"`: every state_dict key the glob matches
        /// (`*` any run of characters, dots included; `?` one character).
        case keys(pattern: String)
    }
    public var target: Target
    /// The target as written (`Conv2d.weight`, `"AuxLogits.fc".weight`).
    public var targetText: String
    public var function: InitFunction
    public var condition: Condition?
    public var location: SourceLocation
    /// `init Conv2d.weight`: what error messages name.
    public var name: String { "init " + targetText }
}

/// The right-hand side of an `init` line: a torch.nn.init function with its arguments bound to
/// its signature (values may still name `fan_in`, `fan_out` or model params).
public struct InitFunction: Sendable {
    public var name: String
    public var arguments: BoundArguments
    public var location: SourceLocation
}

/// What a parameter's values are drawn from, every argument evaluated for its tensor.
public enum InitDraw: Sendable, Hashable, CustomStringConvertible {
    case constant(Double)
    case normal(mean: Double, std: Double)
    case uniform(low: Double, high: Double)
    /// N(mean, std²) restricted to [low, high] (torch's trunc_normal_: absolute bounds).
    case truncatedNormal(mean: Double, std: Double, low: Double, high: Double)

    public var description: String {
        switch self {
        case .constant(let v): return "constant(\(v))"
        case .normal(let m, let s): return "normal(\(m), \(s))"
        case .uniform(let a, let b): return "uniform(\(a), \(b))"
        case .truncatedNormal(let m, let s, let a, let b): return "trunc_normal(\(m), \(s), \(a), \(b))"
        }
    }
}

/// torch.nn.init's functions as zoo `init` lines write them (without the trailing underscore).
public enum InitFunctions {
    static let fanArguments: [(String, ZooValue?)] = [("a", .int(0)), ("mode", .string("fan_in")), ("nonlinearity", .string("leaky_relu"))]
    /// Each function's parameters and defaults, as in torch.nn.init (the tensor argument dropped).
    public static let signatures: [String: Signature] = [
        "zeros": Signature([]),
        "ones": Signature([]),
        "constant": Signature([("val", nil)]),
        "normal": Signature([("mean", .float(0)), ("std", .float(1))]),
        "uniform": Signature([("a", .float(0)), ("b", .float(1))]),
        "trunc_normal": Signature([("mean", .float(0)), ("std", .float(1)), ("a", .float(-2)), ("b", .float(2))]),
        "kaiming_normal": Signature(fanArguments),
        "kaiming_uniform": Signature(fanArguments),
        "xavier_normal": Signature([("gain", .float(1))]),
        "xavier_uniform": Signature([("gain", .float(1))]),
        /// torch's own default for the parameter's layer kind (`LayerSpec.torchInit`).
        "default": Signature([]),
    ]
    /// torch.nn.init.calculate_gain's names.
    static let nonlinearities = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                 "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]

    /// Checks what can be checked before the model is built: argument types of literal values.
    static func check(_ f: InitFunction, rule: String) throws(ZooError) {
        for (k, v) in f.arguments where isLiteral(v) {
            _ = try typed(k, v, f, rule: rule)
        }
    }

    static func isLiteral(_ v: ZooValue) -> Bool {
        switch v {
        case .ident, .expr: return false
        case .tuple(let xs): return xs.allSatisfy(isLiteral)
        default: return true
        }
    }

    /// The value of one argument as its function needs it (a number, or one of the allowed strings).
    static func typed(_ k: String, _ v: ZooValue, _ f: InitFunction, rule: String) throws(ZooError) -> ZooValue {
        func fail(_ what: String) -> ZooError {
            ZooError(.badArgument, "\(f.name) argument '\(k)' must be \(what), got \(v) (\(v.typeName))", at: f.location, module: rule)
        }
        switch k {
        case "mode":
            guard let s = v.stringValue, s == "fan_in" || s == "fan_out" else { throw fail("\"fan_in\" or \"fan_out\"") }
        case "nonlinearity":
            guard let s = v.stringValue, nonlinearities.contains(s) else {
                throw fail("one of calculate_gain's names (\(nonlinearities.joined(separator: ", ")))")
            }
        default:
            guard let d = v.doubleValue, d.isFinite, v.boolValue == nil else { throw fail("a number") }
        }
        return v
    }

    /// torch.nn.init.calculate_gain(nonlinearity, param).
    static func gain(_ nonlinearity: String, param: Double) -> Double {
        switch nonlinearity {
        case "tanh": return 5.0 / 3
        case "relu": return 2.0.squareRoot()
        case "leaky_relu": return (2 / (1 + param * param)).squareRoot()
        case "selu": return 3.0 / 4
        default: return 1       // linear, conv*, sigmoid
        }
    }

    /// torch.nn.init._calculate_fan_in_and_fan_out: fan_in = size(1)·receptive field,
    /// fan_out = size(0)·receptive field (receptive field = product of the sizes after the first two);
    /// nil below two dimensions, where torch raises.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int)? {
        guard shape.count >= 2 else { return nil }
        let rf = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * rf, shape[0] * rf)
    }

    /// Evaluates `f` for one tensor. `names` resolves `fan_in`, `fan_out` and model params.
    static func draw(_ f: InitFunction, shape: [Int], names: [String: ZooValue], rule: String) throws(ZooError) -> InitDraw {
        func fail(_ m: String, _ kind: ZooError.Kind = .badArgument) -> ZooError { ZooError(kind, m, at: f.location, module: rule) }
        func resolve(_ v: ZooValue) throws(ZooError) -> ZooValue {
            switch v {
            case .ident(let n):
                guard let r = names[n] else {
                    if n == "fan_in" || n == "fan_out" {
                        throw fail("\(n) needs a tensor of 2 or more dimensions (or a 1-D one whose module has a weight), got shape \(ShapeCheck.fmt(shape))", .initRule)
                    }
                    throw fail("unknown name '\(n)' (an init rule's arguments may use fan_in, fan_out and the model's params)", .unknownParameter)
                }
                return r
            case .tuple(let xs):
                var out: [ZooValue] = []
                for x in xs { out.append(try resolve(x)) }
                return .tuple(out)
            case .expr(let op, let xs):
                var operands: [ZooValue] = []
                for x in xs { operands.append(try resolve(x)) }
                switch ZooArithmetic.evaluate(op, operands) {
                case .success(let r): return r
                case .failure(let p): throw fail(p.message, p.kind)
                }
            default: return v
            }
        }
        var a: [String: ZooValue] = [:]
        for (k, v) in f.arguments { a[k] = try typed(k, try resolve(v), f, rule: rule) }
        func num(_ k: String) -> Double { a[k]!.doubleValue! }
        func str(_ k: String) -> String { a[k]!.stringValue! }
        func ownFans() throws(ZooError) -> (fanIn: Int, fanOut: Int) {
            guard let fans = fans(shape) else {
                throw fail("\(f.name) needs a tensor of 2 or more dimensions to compute fan_in and fan_out (torch raises too), got shape \(ShapeCheck.fmt(shape))", .initRule)
            }
            return fans
        }
        switch f.name {
        case "zeros": return .constant(0)
        case "ones": return .constant(1)
        case "constant": return .constant(num("val"))
        case "normal":
            guard num("std") >= 0 else { throw fail("normal needs std ≥ 0, got \(num("std"))") }
            return .normal(mean: num("mean"), std: num("std"))
        case "uniform":
            guard num("a") <= num("b") else { throw fail("uniform needs a ≤ b, got a = \(num("a")), b = \(num("b"))") }
            return .uniform(low: num("a"), high: num("b"))
        case "trunc_normal":
            guard num("std") >= 0 else { throw fail("trunc_normal needs std ≥ 0, got \(num("std"))") }
            guard num("a") < num("b") else { throw fail("trunc_normal needs a < b, got a = \(num("a")), b = \(num("b"))") }
            return .truncatedNormal(mean: num("mean"), std: num("std"), low: num("a"), high: num("b"))
        case "kaiming_normal", "kaiming_uniform":
            // std = gain / √fan (torch.nn.init.kaiming_normal_); the uniform bound is √3·std.
            let fans = try ownFans()
            let fan = str("mode") == "fan_in" ? fans.fanIn : fans.fanOut
            let std = gain(str("nonlinearity"), param: num("a")) / Double(fan).squareRoot()
            if f.name == "kaiming_normal" { return .normal(mean: 0, std: std) }
            let bound = 3.0.squareRoot() * std
            return .uniform(low: -bound, high: bound)
        case "xavier_normal", "xavier_uniform":
            // std = gain·√(2 / (fan_in + fan_out)); the uniform bound is √3·std.
            let fans = try ownFans()
            let std = num("gain") * (2 / Double(fans.fanIn + fans.fanOut)).squareRoot()
            if f.name == "xavier_normal" { return .normal(mean: 0, std: std) }
            let bound = 3.0.squareRoot() * std
            return .uniform(low: -bound, high: bound)
        default:
            throw fail("'\(f.name)' cannot be evaluated here", .initRule)
        }
    }

    /// A kind's `torchInit` text, parsed (all of them once, on first use).
    static func builtIn(_ text: String) -> InitFunction {
        guard let f = builtIns[text] else { fatalError("no built-in init rule '\(text)'") }
        return f
    }
    private static let builtIns: [String: InitFunction] = {
        var out: [String: InitFunction] = [:]
        for kind in LayerKinds.all {
            for (_, text) in kind.torchInit where out[text] == nil {
                let file = "model m\ninput 1 1 1 1\ninit Linear.weight = \(text)\nx = Identity()"
                guard let f = try? ZooParser.parse(file, file: "torch default").inits.first?.function else {
                    fatalError("bad built-in init rule '\(text)'")
                }
                out[text] = f
            }
        }
        return out
    }()
}

/// Glob matching for path rules: `*` any run of characters (dots included), `?` one character.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] { pi += 1; ti += 1 }
            else if pi < p.count, p[pi] == UInt8(ascii: "*") { star = pi; mark = ti; pi += 1 }
            else if star >= 0 { pi = star + 1; mark += 1; ti = mark }
            else { return false }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
