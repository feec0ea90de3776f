/// torch.nn.BatchNorm2d. weight/bias [C] when affine; running_mean, running_var [C] and
/// num_batches_tracked [] when tracking running statistics.
public struct BatchNorm2d: LayerSpec, Hashable {
    public static let className = "BatchNorm2d"
    static let signature = Signature([
        ("num_features", nil), ("eps", .float(1e-5)), ("momentum", .float(0.1)), ("affine", .bool(true)),
        ("track_running_stats", .bool(true)), ("bias", .bool(true)),
    ])
    public var numFeatures: Int
    public var eps: ZooValue          // kept as written for the repr
    public var momentum: ZooValue
    public var affine: Bool
    public var trackRunningStats: Bool
    public var bias: Bool

    public var epsValue: Double { eps.doubleValue ?? 1e-5 }
    public var momentumValue: Double { momentum.doubleValue ?? 0.1 }

    public init(numFeatures: Int, eps: Double = 1e-5, momentum: Double = 0.1) {
        self.numFeatures = numFeatures; self.eps = .float(eps); self.momentum = .float(momentum)
        affine = true; trackRunningStats = true; bias = true
    }

    init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "BatchNorm2d")
        numFeatures = try a.int("num_features", min: 1)
        _ = try a.double("eps"); eps = a["eps"]
        _ = try a.double("momentum"); momentum = a["momentum"]
        affine = try a.bool("affine")
        trackRunningStats = try a.bool("track_running_stats")
        bias = try a.bool("bias")
    }

    // torch 2.15's _NormBase.extra_repr (bias added in 2.15).
    public var extraRepr: String {
        "\(numFeatures), eps=\(eps), momentum=\(momentum), affine=\(affine ? "True" : "False"), bias=\(bias ? "True" : "False"), track_running_stats=\(trackRunningStats ? "True" : "False")"
    }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.nchw(inputs, "BatchNorm2d")
        guard x[1] == numFeatures else {
            throw ShapeProblem(.channelMismatch, "BatchNorm2d expects \(numFeatures) channels but receives \(x[1]) (input \(ShapeCheck.fmt(x)))")
        }
        return x
    }

    public var parameters: [TensorSpec] {
        guard affine else { return [] }
        return bias ? [TensorSpec("weight", [numFeatures]), TensorSpec("bias", [numFeatures])] : [TensorSpec("weight", [numFeatures])]
    }

    public var buffers: [TensorSpec] {
        guard trackRunningStats else { return [] }
        return [TensorSpec("running_mean", [numFeatures]), TensorSpec("running_var", [numFeatures]), TensorSpec("num_batches_tracked", [])]
    }
}
