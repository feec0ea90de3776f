/// torchvision.ops.StochasticDepth(p, mode): identity in eval; in train, mode "row" drops each
/// example's residual branch with probability p and scales survivors by 1/(1 − p).
public struct StochasticDepth: ParameterFree {
    public static let className = "StochasticDepth"
    public static let moduleName: String? = "StochasticDepth"
    public static let functionNames: [String] = []
    public static let functionName = "stochastic_depth"
    public static let category = LayerCategory.dropout
    public static let signature = Signature([("p", nil), ("mode", nil)])
    public var p: ZooValue
    public var mode: String
    public var probability: Double { p.doubleValue ?? 0 }
    public var layer: Layer { .stochasticDepth(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "StochasticDepth")
        let pv = try a.double("p")
        guard pv >= 0 && pv <= 1 else { throw ShapeProblem(.badArgument, "StochasticDepth p has to be between 0 and 1, but got \(pv)") }
        guard let m = a["mode"].stringValue, m == "row" || m == "batch" else {
            throw ShapeProblem(.badArgument, "StochasticDepth mode has to be 'row' or 'batch', got \(a["mode"])")
        }
        p = a["p"].intValue.map { .float(Double($0)) } ?? a["p"]; mode = m
    }
    // torchvision: f"{self.__class__.__name__}(p={self.p}, mode={self.mode})" — mode unquoted.
    public var extraRepr: String { "p=\(p), mode=\(mode)" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, "StochasticDepth") }
    /// ConvLens: one mask multiply per element in train, nothing in eval; no tool counts it.
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: c.training && probability > 0 ? c.outputElements : 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { c.training && probability > 0 }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        [Formula("computes", "identity in eval; in train keeps each \(mode == "row" ? "example's" : "batch's") branch with probability 1 − \(p) and scales it by 1/(1 − p)")]
    }
}

/// A parameter owned by a container rather than a leaf module (ConvNeXt's `layer_scale`):
/// `layer_scale = Parameter(dim, 1, 1)` registers it on the enclosing module and yields it.
public struct ParameterTensor: LayerSpec {
    public static let className = "Parameter"
    public static let moduleName: String? = nil
    public static let functionNames = ["Parameter"]
    public static let functionName = "parameter"
    public static let category = LayerCategory.parameter
    public static let signature = Signature((0..<8).map { ("d\($0)", $0 == 0 ? nil : ZooValue.null) })
    public var shape: [Int]
    /// The state_dict name, local to the owning module (set by the graph builder).
    public var name: String = ""
    public var layer: Layer { .parameter(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Parameter")
        var dims: [Int] = []
        for (k, val) in v where val != .null {
            guard let d = val.intValue, d >= 1 else { throw a.typeError(k, "a positive int") }
            try a.bounded(k, [d])
            dims.append(d)
        }
        shape = dims
    }
    public var extraRepr: String { "size=" + tuple(shape) }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        guard inputs.isEmpty else { throw ShapeProblem(.shape, "Parameter takes no inputs, got \(inputs.count)") }
        return shape
    }
    /// None: the tensor is whatever the model's constructor writes (ConvNeXt: ones * layer_scale),
    /// so a zoo file must state it with an `init` rule.
    public static let torchInit: [(parameter: String, rule: String)] = []
    public var parameters: [TensorSpec] { [TensorSpec(name, shape)] }
    public var buffers: [TensorSpec] { [] }
    public func macs(_ c: LayerCall) -> Int { 0 }
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    /// The tensor is the parameter itself: nothing is allocated per call.
    public func allocates(_ c: LayerCall) -> Bool { false }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        [Formula("owned parameter", "\(FormulaText.dims(shape)) = \(FormulaText.num(numel(shape))) values, owned by the enclosing module (a state_dict entry of its own, not a layer)")]
    }
}

extension StochasticDepth {
    /// torchvision.ops.StochasticDepth, defined in model.py.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .module("StochasticDepth(\(c.argumentList))", helpers: [helper]) }

    static let helper = PyTorchHelper(name: "StochasticDepth", source: """
        class StochasticDepth(nn.Module):
            \"\"\"torchvision.ops.StochasticDepth: drops the residual branch per row (or batch) in training.\"\"\"

            def __init__(self, p, mode):
                super().__init__()
                self.p = p
                self.mode = mode

            def forward(self, input):
                if not self.training or self.p == 0.0:
                    return input
                survival_rate = 1.0 - self.p
                if self.mode == "row":
                    size = [input.shape[0]] + [1] * (input.ndim - 1)
                else:
                    size = [1] * input.ndim
                noise = torch.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
                if survival_rate > 0.0:
                    noise.div_(survival_rate)
                return input * noise

            def __repr__(self):
                return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
        """)
}

extension ParameterTensor {
    /// `nn.Parameter(torch.ones(…))` on the enclosing module (its value comes from the weights or an init rule).
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .parameter("nn.Parameter(torch.ones(\(c.argumentList)))") }
}

extension StochasticDepth {
    /// Eval mode: the identity (ONNX has no stochastic depth); an `Identity` node keeps the module.
    /// (The print leaves `mode` unquoted; the zoo constructor quotes it.)
    public func onnx(_ c: ONNXCall) -> ONNXSpelling { .op("Identity", module: "StochasticDepth(p=\(p), mode='\(mode)')") }
}

extension ParameterTensor {
    /// No node: the output is the initializer itself.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling { .nodes([], result: .parameter(name)) }
}
