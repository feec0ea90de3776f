/// torch.nn.Linear. weight [out, in], bias [out]. Applies to the last dimension.
public struct Linear: LayerSpec, Hashable {
    public static let className = "Linear"
    static let signature = Signature([("in_features", nil), ("out_features", nil), ("bias", .bool(true))])
    public var inFeatures: Int
    public var outFeatures: Int
    public var bias: Bool

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.bias = bias
    }

    init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Linear")
        inFeatures = try a.int("in_features", min: 1)
        outFeatures = try a.int("out_features", min: 1)
        bias = try a.bool("bias")
    }

    public var extraRepr: String { "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias ? "True" : "False")" }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "Linear")
        guard let last = x.last, last == inFeatures else {
            throw ShapeProblem(.channelMismatch, "Linear expects \(inFeatures) input features but receives \(x.last ?? 0) (input \(ShapeCheck.fmt(x)))")
        }
        return Array(x.dropLast()) + [outFeatures]
    }

    public var parameters: [TensorSpec] {
        bias ? [TensorSpec("weight", [outFeatures, inFeatures]), TensorSpec("bias", [outFeatures])] : [TensorSpec("weight", [outFeatures, inFeatures])]
    }

    // MACs = output elements × in_features
    public func macs(inputs: [[Int]], output: [Int]) -> Int { output.reduce(1, *) * inFeatures }
}
