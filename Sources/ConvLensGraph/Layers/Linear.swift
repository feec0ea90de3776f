/// torch.nn.Linear. weight [out, in], bias [out]. Applies to the last dimension.
public struct Linear: LayerSpec, Hashable {
    public static let className = "Linear"
    public static let moduleName: String? = "Linear"
    public static let functionNames: [String] = []
    public static let functionName = "linear"
    public static let category = LayerCategory.linear
    public var layer: Layer { .linear(self) }
    public static let signature = Signature([("in_features", nil), ("out_features", nil), ("bias", .bool(true))])
    public var inFeatures: Int
    public var outFeatures: Int
    public var bias: Bool

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.bias = bias
    }

    public init(_ v: BoundArguments) throws(ShapeProblem) {
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

    /// torch's Linear.reset_parameters(): kaiming_uniform_(weight, a=√5) = U(±1/√fan_in); the bias
    /// U(±1/√fan_in) with the weight's fan_in (`fan_in` of a 1-D tensor is its module weight's).
    public static let torchInit = [(parameter: "weight", rule: "kaiming_uniform(a=sqrt(5))"),
                                   (parameter: "bias", rule: "uniform(-1 / sqrt(fan_in), 1 / sqrt(fan_in))")]
    public var parameters: [TensorSpec] {
        bias ? [TensorSpec("weight", [outFeatures, inFeatures]), TensorSpec("bias", [outFeatures])] : [TensorSpec("weight", [outFeatures, inFeatures])]
    }

    public var buffers: [TensorSpec] { [] }

    // MACs = output elements × in_features
    public func macs(_ c: LayerCall) -> Int { Checked.satMul(c.outputElements, inFeatures) }

    /// ConvLens: 2 per MAC + one bias add per output. fvcore (linear_flop_jit) and thop
    /// (count_linear): the MACs. ptflops (linear_flops_counter_hook): (in·out + out for the bias) per
    /// row, rows = prod(x.shape[:-1]) — the batch, and H·W for a Linear on NHWC.
    public func operations(_ c: LayerCall) -> OperationCounts {
        let m = macs(c)
        let rows = c.inputElements / inFeatures
        return OperationCounts(flops: Checked.satAdd(Checked.satMul(2, m), bias ? c.outputElements : 0), fvcore: m, thop: Double(m),
                               ptflopsModule: Double(inFeatures * outFeatures + (bias ? outFeatures : 0)) * Double(rows))
    }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }

    public func formulas(_ c: LayerCall) -> [Formula] {
        let y = c.output
        let rows = y.dropLast().reduce(1, *)
        let p = outFeatures * inFeatures + (bias ? outFeatures : 0)
        let w = "\(outFeatures)·\(inFeatures)"
        return [
            Formula("parameters", bias ? "\(w) + \(outFeatures) = \(FormulaText.num(p))" : "\(w) = \(FormulaText.num(p))"),
            Formula("MACs", "\(rows == 1 ? "" : "\(FormulaText.dims(Array(y.dropLast())))·")\(outFeatures) outputs × \(inFeatures) inputs = \(FormulaText.num(macs(c)))"),
        ]
    }
}

extension Linear {
    /// `nn.Linear(…)`, arguments as written.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .module("nn.Linear(\(c.argumentList))") }
}

extension Linear {
    /// On a 2-D input `Gemm(x, weight, bias, transB=1)`; on more dimensions (ConvNeXt's Linear over
    /// NHWC channels) `MatMul(x, Transpose(weight))` and `Add(bias)`.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        if c.x.count == 2 {
            return .op("Gemm", bias ? [.parameter("weight"), .parameter("bias")] : [.parameter("weight")], ["transB": .int(1)], module: c.repr)
        }
        var steps = [ONNXStep("Transpose", [.parameter("weight")], ["perm": .ints([1, 0])]), ONNXStep("MatMul", [.input(0), .step(0)])]
        if bias { steps.append(ONNXStep("Add", [.step(1), .parameter("bias")])) }
        return .nodes(steps, module: c.repr)
    }
}
