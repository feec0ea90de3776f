/// torch.nn.GroupNorm(num_groups, num_channels, eps, affine, *, bias): normalises each example's
/// channels in `num_groups` groups (over the group's channels and H·W); weight/bias [C] when
/// affine. Not in torchvision's classifiers, common in users' networks (and detection backbones).
public struct GroupNorm: LayerSpec {
    public static let className = "GroupNorm"
    public static let moduleName: String? = "GroupNorm"
    public static let functionNames: [String] = []
    public static let functionName = "group_norm"
    public static let category = LayerCategory.normalization
    public static let signature = Signature([("num_groups", nil), ("num_channels", nil), ("eps", .float(1e-5)), ("affine", .bool(true)),
                                             ("bias", .bool(true))])
    public var numGroups: Int
    public var numChannels: Int
    public var eps: ZooValue
    public var affine: Bool
    public var bias: Bool
    public var layer: Layer { .groupNorm(self) }

    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "GroupNorm")
        numGroups = try a.int("num_groups", min: 1)
        numChannels = try a.int("num_channels", min: 1)
        _ = try a.double("eps"); eps = a["eps"]
        affine = try a.bool("affine")
        bias = try a.bool("bias") && affine
        guard numChannels % numGroups == 0 else {
            throw ShapeProblem(.badArgument, "GroupNorm num_channels (\(numChannels)) must be divisible by num_groups (\(numGroups))")
        }
    }

    // torch 2.15: '{num_groups}, {num_channels}, eps={eps}, affine={affine}, bias=…'
    public var extraRepr: String {
        "\(numGroups), \(numChannels), eps=\(eps), affine=\(affine ? "True" : "False"), bias=\(bias ? "True" : "False")"
    }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "GroupNorm")
        guard x.count >= 2 else { throw ShapeProblem(.shape, "GroupNorm expects an (N, C, …) input, got \(ShapeCheck.fmt(x))") }
        guard x[1] == numChannels else {
            throw ShapeProblem(.channelMismatch, "GroupNorm expects \(numChannels) channels but receives \(x[1]) (input \(ShapeCheck.fmt(x)))")
        }
        return x
    }

    /// torch's reset_parameters(): weight ones_, bias zeros_.
    public static let torchInit = [(parameter: "weight", rule: "ones"), (parameter: "bias", rule: "zeros")]
    public var parameters: [TensorSpec] {
        guard affine else { return [] }
        return bias ? [TensorSpec("weight", [numChannels]), TensorSpec("bias", [numChannels])] : [TensorSpec("weight", [numChannels])]
    }
    public var buffers: [TensorSpec] { [] }
    public func macs(_ c: LayerCall) -> Int { 0 }

    /// ConvLens: as layer norm, 7 per element with affine (mean 1, variance 3, normalise 1,
    /// affine 2), 5 without. fvcore (norm_flop_counter on aten::group_norm): numel·(5 if affine
    /// else 4). thop: no hook for GroupNorm: 0. ptflops (bn_flops_counter_hook): numel, doubled
    /// with affine. All measured on torch 2.15 with the tools' current releases.
    public func operations(_ c: LayerCall) -> OperationCounts {
        let x = c.inputElements
        return OperationCounts(flops: (affine ? 7 : 5) * x, fvcore: x * (affine ? 5 : 4), thop: 0, ptflopsModule: Double(x * (affine ? 2 : 1)))
    }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let perGroup = numChannels / numGroups
        let hw = c.x.dropFirst(2).reduce(1, *)
        var lines = [Formula("computes", "y = (x − E[x]) / √(Var[x] + \(eps)) · γ + β, statistics per example over each group of \(perGroup) channels × \(hw) positions = \(FormulaText.num(perGroup * hw)) values; the same in eval and train")]
        if affine { lines.append(Formula("parameters", "γ\(bias ? " and β" : ""): \(bias ? "2·" : "")\(numChannels) = \(FormulaText.num(parameters.reduce(0) { $0 + $1.count }))")) }
        return lines
    }
}

extension GroupNorm {
    /// `nn.GroupNorm(…)`, arguments as written.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .module("nn.GroupNorm(\(c.argumentList))") }
}

extension GroupNorm {
    /// Opset 18's GroupNormalization takes one scale per group (per channel only from opset 21),
    /// so: Reshape to [N, G, rest], InstanceNormalization (unit scale), Reshape back, then the
    /// per-channel affine as Mul and Add of the [C] parameters viewed as [C, 1, …].
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        let x = c.x, g = numGroups
        let ones = [Int](repeating: 1, count: max(x.count - 2, 0))
        var constants: [ONNXConstant] = [.ints("grouped", [x[0], g, -1]), .ints("shape", x),
                                         ONNXConstant("unit_scale", dims: [g], floats: [Float](repeating: 1, count: g)),
                                         ONNXConstant("zero_shift", dims: [g], floats: [Float](repeating: 0, count: g))]
        var steps = [ONNXStep("Reshape", [.input(0), .constant("grouped")]),
                     ONNXStep("InstanceNormalization", [.step(0), .constant("unit_scale"), .constant("zero_shift")], ["epsilon": .float(eps.doubleValue ?? 1e-5)]),
                     ONNXStep("Reshape", [.step(1), .constant("shape")])]
        if affine {
            constants.append(.ints("channel_shape", [numChannels] + ones))
            steps.append(ONNXStep("Reshape", [.parameter("weight"), .constant("channel_shape")]))
            steps.append(ONNXStep("Mul", [.step(2), .step(3)]))
            if bias {
                steps.append(ONNXStep("Reshape", [.parameter("bias"), .constant("channel_shape")]))
                steps.append(ONNXStep("Add", [.step(4), .step(5)]))
            }
        }
        return .nodes(steps, constants: constants, module: c.repr)
    }
}
