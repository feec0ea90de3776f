/// The element-wise activation functions beyond ReLU, each with torch's class name, constructor,
/// repr and per-convention counts. Adding one is a case here (and its kernel in the engine).
public enum ActivationFunction: String, Sendable, Hashable, CaseIterable {
    case relu6, silu, sigmoid, tanh, hardswish, hardsigmoid, gelu, leakyRelu = "leaky_relu"

    public var className: String {
        switch self {
        case .relu6: return "ReLU6"
        case .silu: return "SiLU"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .hardswish: return "Hardswish"
        case .hardsigmoid: return "Hardsigmoid"
        case .gelu: return "GELU"
        case .leakyRelu: return "LeakyReLU"
        }
    }
    /// torch.nn.functional's name.
    public var functionName: String { rawValue }

    var signature: Signature {
        switch self {
        case .relu6, .silu, .hardswish, .hardsigmoid: return Signature([("inplace", .bool(false))])
        case .sigmoid, .tanh: return Signature([])
        case .gelu: return Signature([("approximate", .string("none"))])
        case .leakyRelu: return Signature([("negative_slope", .float(0.01)), ("inplace", .bool(false))])
        }
    }

    /// ConvLens FLOPs per element, counting each arithmetic operation and each elementary function
    /// (exp, erf, tanh) as one: relu6 = max, min; sigmoid = 1/(1 + exp(−x)): negate, exp, add,
    /// divide; silu = x·sigmoid(x); hardsigmoid = clamp(x/6 + 1/2, 0, 1): divide, add, max, min;
    /// hardswish = x·hardsigmoid(x); gelu = x·½(1 + erf(x/√2)): divide, erf, add, 2 multiplies;
    /// gelu tanh = ½x(1 + tanh(√(2/π)(x + 0.044715x³))): 9; leaky relu = compare, multiply.
    func flopsPerElement(approximate: String) -> Int {
        switch self {
        case .relu6: return 2
        case .sigmoid: return 4
        case .silu: return 5
        case .tanh: return 1
        case .hardsigmoid: return 4
        case .hardswish: return 5
        case .gelu: return approximate == "tanh" ? 9 : 5
        case .leakyRelu: return 2
        }
    }

    var formula: String {
        switch self {
        case .relu6: return "min(max(0, x), 6)"
        case .silu: return "x · σ(x) = x / (1 + e^−x)"
        case .sigmoid: return "σ(x) = 1 / (1 + e^−x)"
        case .tanh: return "tanh(x)"
        case .hardswish: return "x · min(max(x + 3, 0), 6) / 6"
        case .hardsigmoid: return "min(max(x + 3, 0), 6) / 6"
        case .gelu: return "x · Φ(x) = x · ½(1 + erf(x/√2))"
        case .leakyRelu: return "x if x ≥ 0 else negative_slope · x"
        }
    }
}

/// torch.nn.ReLU6, SiLU, Sigmoid, Tanh, Hardswish, Hardsigmoid, GELU, LeakyReLU.
public struct Activation: ParameterFree {
    public static let className = "Activation"
    public static let moduleName: String? = nil          // one constructor per function (LayerFactory)
    public static let functionNames: [String] = []
    public static let functionName = "activation"
    public static let category = LayerCategory.activation
    public static let signature = Signature([("function", nil), ("inplace", .bool(false)), ("approximate", .string("none")),
                                             ("negative_slope", .float(0.01))])
    public var function: ActivationFunction
    public var inplace: Bool
    public var approximate: String
    public var negativeSlope: ZooValue
    public var layer: Layer { .activation(self) }

    public init(_ v: BoundArguments) throws(ShapeProblem) {
        guard let name = v["function"]?.stringValue, let f = ActivationFunction(rawValue: name) else {
            throw ShapeProblem(.badArgument, "unknown activation \(v["function"] ?? .null)")
        }
        function = f
        let a = Args(v, f.className)
        inplace = v["inplace"] == nil ? false : try a.bool("inplace")
        approximate = v["approximate"]?.stringValue ?? "none"
        guard approximate == "none" || approximate == "tanh" else {
            throw ShapeProblem(.badArgument, "GELU approximate must be 'none' or 'tanh', got '\(approximate)'")
        }
        negativeSlope = v["negative_slope"] ?? .float(0.01)
        if v["negative_slope"] != nil { _ = try a.double("negative_slope") }
        if case .int(let i) = negativeSlope { negativeSlope = .float(Double(i)) }
    }

    public var slope: Double { negativeSlope.doubleValue ?? 0.01 }

    // torch 2.15's extra_repr of each class.
    public var extraRepr: String {
        switch function {
        case .relu6, .silu: return inplace ? "inplace=True" : ""
        case .sigmoid, .tanh, .hardswish, .hardsigmoid: return ""
        case .gelu: return "approximate='\(approximate)'"
        case .leakyRelu: return "negative_slope=\(negativeSlope)" + (inplace ? ", inplace=True" : "")
        }
    }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, function.className) }

    /// fvcore: the aten ops (hardtanh, silu, sigmoid, hardswish, gelu, leaky_relu, …) are not in its
    /// supported set: 0. thop: zero-op hooks (ReLU6, LeakyReLU) or no hook: 0. ptflops
    /// (pytorch_ops.py MODULES_MAPPING, pytorch_engine.py patch_functional): a module hook numel(y)
    /// for ReLU6, LeakyReLU and GELU (relu_flops_counter_hook); a patched functional call numel(x)
    /// where the module's forward calls a patched function — F.gelu and F.silu (ReLU6's forward
    /// calls F.hardtanh and LeakyReLU's F.leaky_relu, which are not patched); Sigmoid, Tanh,
    /// Hardswish, Hardsigmoid: nothing.
    public func operations(_ c: LayerCall) -> OperationCounts {
        let y = Double(c.outputElements), x = Double(c.inputElements)
        let flops = function.flopsPerElement(approximate: approximate) * c.outputElements
        switch function {
        case .relu6, .leakyRelu: return OperationCounts(flops: flops, ptflopsModule: y)
        case .gelu: return OperationCounts(flops: flops, ptflopsModule: y, ptflopsFunctional: x)
        case .silu: return OperationCounts(flops: flops, ptflopsFunctional: x)
        case .sigmoid, .tanh, .hardswish, .hardsigmoid: return OperationCounts(flops: flops)
        }
    }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        [Formula("computes", "\(function.formula), element-wise; shape unchanged; \(function.flopsPerElement(approximate: approximate)) FLOPs per element (ConvLens)")]
    }
}

extension Activation {
    /// `nn.ReLU6(…)`, `nn.SiLU(…)`, … — torch.nn's class of the same name (GELU's `approximate`
    /// exists since torch 1.12).
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        guard ActivationFunction.allCases.contains(where: { $0.className == c.callee }) else {
            return .unsupported("no torch.nn activation is called \(c.callee)")
        }
        return .module("nn.\(c.callee)(\(c.argumentList))")
    }
}

extension Activation {
    /// ReLU6 is `Clip(x, 0, 6)`; SiLU `x · Sigmoid(x)`; GELU (opset 20 is the first with `Gelu`)
    /// its Erf form x · ½(1 + erf(x/√2)) as torch's exporters write it, and the tanh form
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))); Hardsigmoid `HardSigmoid(alpha=1/6, beta=1/2)`.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        let module = c.repr
        switch function {
        case .relu6:
            return .op("Clip", [.constant("min"), .constant("max")], constants: [.scalar("min", 0), .scalar("max", 6)], module: module)
        case .silu:
            return .nodes([ONNXStep("Sigmoid", [.input(0)]), ONNXStep("Mul", [.input(0), .step(0)])], module: module)
        case .sigmoid: return .op("Sigmoid", module: module)
        case .tanh: return .op("Tanh", module: module)
        case .hardswish: return .op("HardSwish", module: module)
        case .hardsigmoid: return .op("HardSigmoid", [], ["alpha": .float(1.0 / 6), "beta": .float(0.5)], module: module)
        case .leakyRelu: return .op("LeakyRelu", [], ["alpha": .float(slope)], module: module)
        case .gelu where approximate == "tanh":
            let steps = [ONNXStep("Mul", [.input(0), .input(0)]), ONNXStep("Mul", [.step(0), .input(0)]),      // x³
                         ONNXStep("Mul", [.step(1), .constant("k")]), ONNXStep("Add", [.input(0), .step(2)]),   // x + 0.044715x³
                         ONNXStep("Mul", [.step(3), .constant("sqrt_2_over_pi")]), ONNXStep("Tanh", [.step(4)]),
                         ONNXStep("Add", [.step(5), .constant("one")]), ONNXStep("Mul", [.input(0), .step(6)]),
                         ONNXStep("Mul", [.step(7), .constant("half")])]
            return .nodes(steps, constants: [.scalar("k", 0.044715), .scalar("sqrt_2_over_pi", (2 / Double.pi).squareRoot()),
                                             .scalar("one", 1), .scalar("half", 0.5)], module: module)
        case .gelu:
            let steps = [ONNXStep("Div", [.input(0), .constant("sqrt2")]), ONNXStep("Erf", [.step(0)]),
                         ONNXStep("Add", [.step(1), .constant("one")]), ONNXStep("Mul", [.input(0), .step(2)]),
                         ONNXStep("Mul", [.step(3), .constant("half")])]
            return .nodes(steps, constants: [.scalar("sqrt2", 2.0.squareRoot()), .scalar("one", 1), .scalar("half", 0.5)], module: module)
        }
    }
}
