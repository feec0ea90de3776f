/// torch.nn.LayerNorm over the trailing `normalized_shape` dims, and torchvision's convnext
/// LayerNorm2d (the same arguments; normalises the channels of an NCHW tensor: permute, layer
/// norm, permute back). weight/bias have normalized_shape.
public struct LayerNorm: LayerSpec {
    public static let className = "LayerNorm"
    public static let moduleName: String? = "LayerNorm"
    public static let functionNames: [String] = []
    public static let functionName = "layer_norm"
    public static let category = LayerCategory.normalization
    public static let signature = Signature([("normalized_shape", nil), ("eps", .float(1e-5)), ("elementwise_affine", .bool(true)),
                                             ("bias", .bool(true)), ("channels_first", .bool(false))])
    public var normalizedShape: [Int]
    public var eps: ZooValue
    public var elementwiseAffine: Bool
    public var bias: Bool
    /// LayerNorm2d: normalise dim 1 of NCHW.
    public var channelsFirst: Bool
    public var epsValue: Double { eps.doubleValue ?? 1e-5 }
    public var layer: Layer { .layerNorm(self) }

    public init(_ v: BoundArguments) throws(ShapeProblem) {
        channelsFirst = v["channels_first"]?.boolValue ?? false
        let a = Args(v, channelsFirst ? "LayerNorm2d" : "LayerNorm")
        normalizedShape = try a.ints("normalized_shape")
        guard normalizedShape.allSatisfy({ $0 >= 1 }), !normalizedShape.isEmpty else {
            throw ShapeProblem(.badArgument, "\(a.callee) normalized_shape must be positive sizes, got \(a["normalized_shape"])")
        }
        if channelsFirst && normalizedShape.count != 1 {
            throw ShapeProblem(.badArgument, "LayerNorm2d normalises the channels: normalized_shape must be one size, got \(a["normalized_shape"])")
        }
        _ = try a.double("eps"); eps = a["eps"]
        elementwiseAffine = try a.bool("elementwise_affine")
        bias = try a.bool("bias")
    }

    // torch 2.15: '{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}' + ', bias=…'
    public var extraRepr: String {
        let shape = normalizedShape.count == 1 ? "(\(normalizedShape[0]),)" : tuple(normalizedShape)
        return "\(shape), eps=\(eps), elementwise_affine=\(elementwiseAffine ? "True" : "False"), bias=\(bias ? "True" : "False")"
    }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let name = channelsFirst ? "LayerNorm2d" : "LayerNorm"
        let x = try ShapeCheck.single(inputs, name)
        if channelsFirst {
            guard x.count == 4 else { throw ShapeProblem(.shape, "LayerNorm2d expects an NCHW input, got \(ShapeCheck.fmt(x))") }
            guard x[1] == normalizedShape[0] else {
                throw ShapeProblem(.channelMismatch, "LayerNorm2d normalises \(normalizedShape[0]) channels but receives \(x[1]) (input \(ShapeCheck.fmt(x)))")
            }
        } else {
            guard x.count >= normalizedShape.count, Array(x.suffix(normalizedShape.count)) == normalizedShape else {
                throw ShapeProblem(.channelMismatch, "LayerNorm over \(tuple(normalizedShape)) needs an input ending in those sizes, got \(ShapeCheck.fmt(x))\(x.count == 4 && x[1] == normalizedShape.last ? " (channels are dim 1: permute to NHWC first, or use LayerNorm2d)" : "")")
            }
        }
        return x
    }

    /// torch's reset_parameters(): weight ones_, bias zeros_.
    public static let torchInit = [(parameter: "weight", rule: "ones"), (parameter: "bias", rule: "zeros")]
    public var parameters: [TensorSpec] {
        guard elementwiseAffine else { return [] }
        return bias ? [TensorSpec("weight", normalizedShape), TensorSpec("bias", normalizedShape)] : [TensorSpec("weight", normalizedShape)]
    }
    public var buffers: [TensorSpec] { [] }
    public func macs(_ c: LayerCall) -> Int { 0 }

    /// ConvLens: mean (1 add), variance (subtract, square, add: 3), normalise (1), affine (2) = 7
    /// per element, 5 without affine. fvcore (norm_flop_counter on aten::layer_norm, LayerNorm2d's
    /// F.layer_norm included): numel·(5 with a weight, else 4). thop (count_normalization, exact
    /// type nn.LayerNorm only): 2·numel, doubled with elementwise_affine; LayerNorm2d is a subclass
    /// thop does not hook: 0. ptflops (bn_flops_counter_hook, exact type nn.LayerNorm): numel,
    /// never doubled (LayerNorm has no `affine` attribute); LayerNorm2d: 0, and F.layer_norm is not patched.
    public func operations(_ c: LayerCall) -> OperationCounts {
        let x = c.inputElements
        return OperationCounts(flops: (elementwiseAffine ? 7 : 5) * x, fvcore: x * (elementwiseAffine ? 5 : 4),
                               thop: channelsFirst ? 0 : Double(2 * x * (elementwiseAffine ? 2 : 1)),
                               ptflopsModule: channelsFirst ? 0 : Double(x))
    }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let n = normalizedShape.reduce(1, *)
        let over = channelsFirst ? "the \(n) channels of each pixel" : "the last \(normalizedShape.count == 1 ? "dim" : "\(normalizedShape.count) dims") (\(n) values)"
        var lines = [Formula("computes", "y = (x − E[x]) / √(Var[x] + \(eps)) · γ + β over \(over); the same in eval and train (no running statistics)")]
        if elementwiseAffine {
            lines.append(Formula("parameters", "γ\(bias ? " and β" : ""): \(bias ? "2·" : "")\(n) = \(FormulaText.num(parameters.reduce(0) { $0 + $1.count }))"))
        }
        return lines
    }
}

/// torch.nn.Softmax(dim).
public struct Softmax: ParameterFree {
    public static let className = "Softmax"
    public static let moduleName: String? = "Softmax"
    public static let functionNames = ["F.softmax"]
    public static let functionName = "softmax"
    public static let category = LayerCategory.activation
    public static let signature = Signature([("dim", .null)])
    public var dim: Int?
    public var layer: Layer { .softmax(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Softmax")
        dim = a["dim"] == .null ? nil : try a.int("dim")
    }
    public var extraRepr: String { "dim=\(dim.map(String.init) ?? "None")" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "Softmax")
        if let dim { guard (dim < 0 ? dim + x.count : dim) >= 0, (dim < 0 ? dim + x.count : dim) < x.count else {
            throw ShapeProblem(.shape, "Softmax dim \(dim) out of range for \(ShapeCheck.fmt(x))")
        } }
        return x
    }
    /// ConvLens: per element max compare, subtract, exp, sum add, divide = 5. fvcore: aten::softmax
    /// is not counted. thop (count_softmax): per softmax of d values, d exps + (d − 1) adds + d divides:
    /// (numel / d)·(3d − 1). ptflops: no module hook; the patched F.softmax its forward calls: numel(x).
    public func operations(_ c: LayerCall) -> OperationCounts {
        let x = c.x
        let d = dim.map { x[$0 < 0 ? $0 + x.count : $0] } ?? (x.count <= 1 || x.count == 3 ? x[0] : x[1])   // torch's _get_softmax_dim
        return OperationCounts(flops: 5 * c.outputElements, thop: Double(c.inputElements / max(d, 1) * (3 * d - 1)),
                               ptflopsFunctional: Double(c.inputElements))
    }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        [Formula("computes", "softmax(x)_i = e^(x_i − max x) / Σ_j e^(x_j − max x) along dim \(dim.map(String.init) ?? "None")")]
    }
}

extension LayerNorm {
    /// `nn.LayerNorm(…)`; `LayerNorm2d(…)` is torchvision's convnext subclass, defined in model.py.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        if c.callee == "LayerNorm2d" { return .module("LayerNorm2d(\(c.argumentList))", helpers: [layerNorm2d]) }
        return .module("nn.LayerNorm(\(c.argumentList))")
    }

    /// torchvision.models.convnext.LayerNorm2d.
    static let layerNorm2d = PyTorchHelper(name: "LayerNorm2d", source: """
        class LayerNorm2d(nn.LayerNorm):
            \"\"\"torchvision.models.convnext.LayerNorm2d: LayerNorm over the channels of NCHW.\"\"\"

            def forward(self, x):
                x = x.permute(0, 2, 3, 1)
                x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
                x = x.permute(0, 3, 1, 2)
                return x
        """)
}

extension Softmax {
    /// `nn.Softmax(…)` / `F.softmax(x, …)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call("F.softmax")) : .module("nn.Softmax(\(c.argumentList))")
    }
}

extension LayerNorm {
    /// `LayerNormalization` over the last dims (opset 17+); LayerNorm2d transposes NCHW to NHWC and
    /// back around it, as torchvision's forward does. Without affine: scale 1 and no bias.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        var constants: [ONNXConstant] = []
        let n = normalizedShape.reduce(1, *)
        let scale: ONNXOperand = elementwiseAffine ? .parameter("weight") : .constant("scale")
        if !elementwiseAffine { constants.append(ONNXConstant("scale", dims: normalizedShape, floats: [Float](repeating: 1, count: n))) }
        let inputs = [scale] + (elementwiseAffine && bias ? [ONNXOperand.parameter("bias")] : [])
        let attributes: [String: ONNXAttributeValue] = ["axis": .int(-normalizedShape.count), "epsilon": .float(epsValue)]
        guard channelsFirst else { return .op("LayerNormalization", inputs, attributes, constants: constants, module: c.repr) }
        return .nodes([ONNXStep("Transpose", [.input(0)], ["perm": .ints([0, 2, 3, 1])]),
                       ONNXStep("LayerNormalization", [.step(0)] + inputs, attributes),
                       ONNXStep("Transpose", [.step(1)], ["perm": .ints([0, 3, 1, 2])])], constants: constants, module: c.repr)
    }
}

extension Softmax {
    /// `Softmax(axis)`; dim=None is torch's implicit choice (`_get_softmax_dim`: 0 for rank 0, 1, 3, else 1).
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        let r = c.x.count
        let axis = dim.map { $0 < 0 ? $0 + r : $0 } ?? (r <= 1 || r == 3 ? 0 : 1)
        return .op("Softmax", [], ["axis": .int(axis)], module: c.repr)
    }
}
