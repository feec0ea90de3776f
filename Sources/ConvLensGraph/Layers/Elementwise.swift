/// A kind with no parameters, no buffers and no multiply-accumulates: it opts into those
/// answers by conforming (every other requirement it must still answer itself).
public protocol ParameterFree: LayerSpec {}
public extension ParameterFree {
    static var torchInit: [(parameter: String, rule: String)] { [] }
    var parameters: [TensorSpec] { [] }
    var buffers: [TensorSpec] { [] }
    func macs(_ c: LayerCall) -> Int { 0 }
}

/// torch.nn.ReLU / F.relu.
public struct ReLU: ParameterFree {
    public static let className = "ReLU"
    public static let moduleName: String? = "ReLU"
    public static let functionNames = ["F.relu", "torch.relu"]
    public static let functionName = "relu"
    public static let category = LayerCategory.activation
    public static let signature = Signature([("inplace", .bool(false))])
    public var inplace: Bool
    public var layer: Layer { .relu(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) { inplace = try Args(v, "ReLU").bool("inplace") }
    public var extraRepr: String { inplace ? "inplace=True" : "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, "ReLU") }
    /// ConvLens: one max(x, 0) per element. fvcore, thop: none. ptflops: numel(y) for the module
    /// hook, and numel(x) for the patched F.relu (which the module's forward calls too).
    public func operations(_ c: LayerCall) -> OperationCounts {
        OperationCounts(flops: c.outputElements, ptflopsModule: Double(c.outputElements), ptflopsFunctional: Double(c.inputElements))
    }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] { [Formula("computes", "max(0, x), element-wise; shape unchanged")] }
}

/// torch.nn.Dropout / F.dropout: identity in eval mode.
public struct Dropout: ParameterFree {
    public static let className = "Dropout"
    public static let moduleName: String? = "Dropout"
    public static let functionNames = ["F.dropout"]
    public static let functionName = "dropout"
    public static let category = LayerCategory.dropout
    public static let signature = Signature([("p", .float(0.5)), ("inplace", .bool(false))])
    public var p: ZooValue
    public var inplace: Bool
    public var probability: Double { p.doubleValue ?? 0.5 }
    public var layer: Layer { .dropout(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Dropout")
        let pv = try a.double("p")
        guard pv >= 0 && pv <= 1 else { throw ShapeProblem(.badArgument, "Dropout probability has to be between 0 and 1, but got \(pv)") }
        p = a["p"]; inplace = try a.bool("inplace")
    }
    public var extraRepr: String { "p=\(p), inplace=\(inplace ? "True" : "False")" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, "Dropout") }
    /// ConvLens: one mask multiply per element in train, nothing in eval. No tool counts it
    /// (ptflops does not patch F.dropout).
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: c.training ? c.outputElements : 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { c.training }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        [Formula("computes", "identity in eval; in train zeroes each element with probability \(p) and scales the rest by 1/(1 − p)")]
    }
}

extension ReLU {
    /// `nn.ReLU(…)` / `F.relu(x, …)` / `torch.relu(x)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call(c.callee)) : .module("nn.ReLU(\(c.argumentList))")
    }
}

extension Dropout {
    /// `nn.Dropout(…)` / `F.dropout(x, …, training=self.training)` (torchvision's functional
    /// dropouts pass the module's mode, as F.dropout defaults to training=True).
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call("F.dropout", extra: [("training", c.training)])) : .module("nn.Dropout(\(c.argumentList))")
    }
}

extension ReLU {
    public func onnx(_ c: ONNXCall) -> ONNXSpelling { .op("Relu", module: c.repr) }
}

extension Dropout {
    /// Eval mode: ONNX's `Dropout` without `training_mode` is the identity; the node stays (with
    /// its ratio) so the module is still there for Netron and for the import.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        .op("Dropout", [.constant("ratio")], constants: [.scalar("ratio", probability)], module: c.repr)
    }
}
