/// torch.nn.BatchNorm2d. weight/bias [C] when affine; running_mean, running_var [C] and
/// num_batches_tracked [] when tracking running statistics.
public struct BatchNorm2d: LayerSpec, Hashable {
    public static let className = "BatchNorm2d"
    public static let moduleName: String? = "BatchNorm2d"
    public static let functionNames: [String] = []
    public static let functionName = "batch_norm"
    public static let category = LayerCategory.normalization
    public var layer: Layer { .batchNorm2d(self) }
    public static let signature = Signature([
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

    public init(_ v: BoundArguments) throws(ShapeProblem) {
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

    /// torch's reset_parameters(): weight ones_, bias zeros_.
    public static let torchInit = [(parameter: "weight", rule: "ones"), (parameter: "bias", rule: "zeros")]
    public var parameters: [TensorSpec] {
        guard affine else { return [] }
        return bias ? [TensorSpec("weight", [numFeatures]), TensorSpec("bias", [numFeatures])] : [TensorSpec("weight", [numFeatures])]
    }

    public var buffers: [TensorSpec] {
        guard trackRunningStats else { return [] }
        return [TensorSpec("running_mean", [numFeatures]), TensorSpec("running_var", [numFeatures]), TensorSpec("num_batches_tracked", [])]
    }

    public func macs(_ c: LayerCall) -> Int { 0 }

    /// ConvLens: eval folds to y = a·x + b (2 per element); train: mean (1), variance (3),
    /// normalise (1), affine (2) = 7 per element, 5 without affine.
    /// fvcore (batchnorm_flop_jit): eval numel·(2 if affine else 1), train numel·(5 if affine else 4).
    /// thop (count_normalization): 2·numel, doubled when affine. ptflops (bn_flops_counter_hook):
    /// numel, doubled when affine.
    public func operations(_ c: LayerCall) -> OperationCounts {
        let x = c.inputElements
        return OperationCounts(flops: c.training ? (affine ? 7 : 5) * x : 2 * x,
                               fvcore: c.training ? x * (affine ? 5 : 4) : x * (affine ? 2 : 1),
                               thop: Double(2 * x * (affine ? 2 : 1)), ptflopsModule: Double(x * (affine ? 2 : 1)))
    }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }

    public func formulas(_ c: LayerCall) -> [Formula] {
        let p = parameters.reduce(0) { $0 + $1.count }, b = buffers.reduce(0) { $0 + $1.count }
        var lines = [Formula("computes", "y = (x − E[x]) / √(Var[x] + \(eps)) · γ + β per channel; eval uses running statistics, train the batch's (momentum \(momentum))")]
        if affine { lines.append(Formula("parameters", "γ and β: 2·\(numFeatures) = \(FormulaText.num(p))")) }
        if trackRunningStats { lines.append(Formula("buffers", "running_mean, running_var: 2·\(numFeatures), num_batches_tracked: 1 → \(FormulaText.num(b))")) }
        return lines
    }
}

extension BatchNorm2d {
    /// `nn.BatchNorm2d(…)`, arguments as written.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .module("nn.BatchNorm2d(\(c.argumentList))") }
}

extension BatchNorm2d {
    /// `BatchNormalization(x, scale, B, mean, var)` in inference mode, not folded into the
    /// convolution before it (the module stays). ONNX's momentum weighs the running value
    /// (running·m + batch·(1 − m)), torch's the batch: m = 1 − torch's momentum. Without affine the
    /// scale and shift are constants 1 and 0.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        guard trackRunningStats else {
            return .unsupported("BatchNorm2d(track_running_stats=False) normalises with batch statistics in eval mode; ONNX's BatchNormalization needs running statistics")
        }
        let n = numFeatures
        var constants: [ONNXConstant] = []
        let scale: ONNXOperand = affine ? .parameter("weight") : .constant("scale")
        let shift: ONNXOperand = affine && bias ? .parameter("bias") : .constant("shift")
        if !affine { constants.append(ONNXConstant("scale", dims: [n], floats: [Float](repeating: 1, count: n))) }
        if !(affine && bias) { constants.append(ONNXConstant("shift", dims: [n], floats: [Float](repeating: 0, count: n))) }
        return .op("BatchNormalization", [scale, shift, .parameter("running_mean"), .parameter("running_var")],
                   ["epsilon": .float(epsValue), "momentum": .float(1 - momentumValue)], constants: constants, module: c.repr)
    }
}
