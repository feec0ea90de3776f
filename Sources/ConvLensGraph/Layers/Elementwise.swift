/// torch.nn.ReLU / F.relu.
public struct ReLU: LayerSpec, Hashable {
    public static let className = "ReLU"
    static let signature = Signature([("inplace", .bool(false))])
    public var inplace: Bool
    init(_ v: BoundArguments) throws(ShapeProblem) { inplace = try Args(v, "ReLU").bool("inplace") }
    public var extraRepr: String { inplace ? "inplace=True" : "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, "ReLU") }
}

/// torch.nn.Dropout / F.dropout: identity in eval mode.
public struct Dropout: LayerSpec, Hashable {
    public static let className = "Dropout"
    static let signature = Signature([("p", .float(0.5)), ("inplace", .bool(false))])
    public var p: ZooValue
    public var inplace: Bool
    public var probability: Double { p.doubleValue ?? 0.5 }
    init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Dropout")
        let pv = try a.double("p")
        guard pv >= 0 && pv <= 1 else { throw ShapeProblem(.badArgument, "Dropout probability has to be between 0 and 1, but got \(pv)") }
        p = a["p"]; inplace = try a.bool("inplace")
    }
    public var extraRepr: String { "p=\(p), inplace=\(inplace ? "True" : "False")" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, "Dropout") }
}

/// torch.nn.Flatten / torch.flatten(x, start_dim).
public struct Flatten: LayerSpec, Hashable {
    public static let className = "Flatten"
    static let signature = Signature([("start_dim", .int(1)), ("end_dim", .int(-1))])
    public var startDim: Int
    public var endDim: Int
    init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Flatten")
        startDim = try a.int("start_dim"); endDim = try a.int("end_dim")
    }
    public var extraRepr: String { "start_dim=\(startDim), end_dim=\(endDim)" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "flatten")
        let s = startDim < 0 ? startDim + x.count : startDim
        let e = endDim < 0 ? endDim + x.count : endDim
        guard s >= 0, e < x.count, s <= e else { throw ShapeProblem(.shape, "flatten dims (\(startDim), \(endDim)) out of range for \(ShapeCheck.fmt(x))") }
        return Array(x[..<s]) + [x[s...e].reduce(1, *)] + Array(x[(e + 1)...])
    }
}

/// torch.nn.Identity.
public struct Identity: LayerSpec, Hashable {
    public static let className = "Identity"
    public var extraRepr: String { "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, "Identity") }
}

/// torch.cat(tensors, dim).
public struct Concat: LayerSpec, Hashable {
    public static let className = "cat"
    static let signature = Signature([("dim", .int(1))])
    public var dim: Int
    init(_ v: BoundArguments) throws(ShapeProblem) { dim = try Args(v, "torch.cat").int("dim") }
    public var extraRepr: String { "dim=\(dim)" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        guard let first = inputs.first, inputs.count >= 1 else { throw ShapeProblem(.shape, "torch.cat needs at least one input") }
        let d = dim < 0 ? dim + first.count : dim
        guard d >= 0 && d < first.count else { throw ShapeProblem(.shape, "torch.cat dim \(dim) out of range for \(ShapeCheck.fmt(first))") }
        var out = first
        for s in inputs.dropFirst() {
            guard s.count == first.count, (0..<s.count).allSatisfy({ $0 == d || s[$0] == first[$0] }) else {
                throw ShapeProblem(.shape, "torch.cat inputs differ outside dim \(dim): " + inputs.map(ShapeCheck.fmt).joined(separator: " vs "))
            }
            out[d] += s[d]
        }
        return out
    }
}

/// The residual `x + y` (torchvision: `out += identity`).
public struct Add: LayerSpec, Hashable {
    public static let className = "add"
    public var extraRepr: String { "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        guard inputs.count >= 2 else { throw ShapeProblem(.shape, "add needs two or more inputs, got \(inputs.count)") }
        guard inputs.allSatisfy({ $0 == inputs[0] }) else {
            throw ShapeProblem(.shape, "add inputs differ in shape: " + inputs.map(ShapeCheck.fmt).joined(separator: " vs "))
        }
        return inputs[0]
    }
}
