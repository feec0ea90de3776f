/// torch.cat(tensors, dim).
public struct Concat: ParameterFree {
    public static let className = "cat"
    public static let moduleName: String? = nil
    public static let functionNames = ["torch.cat"]
    public static let functionName = "cat"
    public static let category = LayerCategory.merge
    public static let signature = Signature([("dim", .int(1))])
    public var dim: Int
    public var layer: Layer { .concat(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) { dim = try Args(v, "torch.cat").int("dim") }
    public var extraRepr: String { "dim=\(dim)" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        guard let first = inputs.first else { throw ShapeProblem(.shape, "torch.cat needs at least one input") }
        let d = dim < 0 ? dim + first.count : dim
        guard d >= 0 && d < first.count else { throw ShapeProblem(.shape, "torch.cat dim \(dim) out of range for \(ShapeCheck.fmt(first))") }
        var out = first
        for s in inputs.dropFirst() {
            guard s.count == first.count, (0..<s.count).allSatisfy({ $0 == d || s[$0] == first[$0] }) else {
                throw ShapeProblem(.shape, "torch.cat inputs differ outside dim \(dim): " + inputs.map(ShapeCheck.fmt).joined(separator: " vs "))
            }
            let (sum, overflow) = out[d].addingReportingOverflow(s[d])
            guard !overflow else { throw ShapeProblem(.shape, "torch.cat sizes along dim \(dim) overflow") }
            out[d] = sum
        }
        return out
    }
    /// Data movement: no operations under any convention.
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .merge }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let d = dim < 0 ? dim + c.output.count : dim
        return [Formula("concat", "along dim \(dim): " + c.inputs.map { String($0[d]) }.joined(separator: " + ") + " = \(c.output[d])")]
    }
}

/// The residual `x + y` (torchvision: `out += identity`, `x + self.block(x)`).
public struct Add: ParameterFree {
    public static let className = "add"
    public static let moduleName: String? = nil
    public static let functionNames = ["add", "torch.add"]
    public static let functionName = "add"
    public static let category = LayerCategory.merge
    public static let signature = Signature([])
    public var layer: Layer { .add(self) }
    public init() {}
    public init(_ v: BoundArguments) throws(ShapeProblem) {}
    public var extraRepr: String { "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        guard inputs.count >= 2 else { throw ShapeProblem(.shape, "add needs two or more inputs, got \(inputs.count)") }
        guard inputs.allSatisfy({ $0 == inputs[0] }) else {
            throw ShapeProblem(.shape, "add inputs differ in shape: " + inputs.map(ShapeCheck.fmt).joined(separator: " vs "))
        }
        return inputs[0]
    }
    /// ConvLens: k − 1 adds per element for k inputs. fvcore skips aten::add; thop sees no module;
    /// ptflops does not count `+` / `+=` (it patches neither Tensor.__add__ nor __iadd__).
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: (c.inputs.count - 1) * c.outputElements) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .merge }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        [Formula("add", "element-wise sum of \(c.inputs.count) tensors of shape \(FormulaText.shape(c.output)): \(FormulaText.num((c.inputs.count - 1) * c.outputElements)) additions")]
    }
}

/// The broadcast multiply `x * y` (squeeze-excitation's `scale * input`, ConvNeXt's
/// `layer_scale * x`), numpy broadcasting: sizes align from the right, a 1 stretches.
public struct Mul: ParameterFree {
    public static let className = "mul"
    public static let moduleName: String? = nil
    public static let functionNames = ["mul", "torch.mul"]
    public static let functionName = "mul"
    public static let category = LayerCategory.scale
    public static let signature = Signature([])
    public var layer: Layer { .mul(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {}
    public var extraRepr: String { "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        guard inputs.count == 2 else { throw ShapeProblem(.shape, "mul takes two inputs, got \(inputs.count)") }
        return try Mul.broadcast(inputs[0], inputs[1])
    }
    /// numpy's broadcast of two shapes, or why they do not broadcast.
    public static func broadcast(_ a: [Int], _ b: [Int]) throws(ShapeProblem) -> [Int] {
        let n = max(a.count, b.count)
        let pa = Array(repeating: 1, count: n - a.count) + a, pb = Array(repeating: 1, count: n - b.count) + b
        var out: [Int] = []
        for i in 0..<n {
            guard pa[i] == pb[i] || pa[i] == 1 || pb[i] == 1 else {
                throw ShapeProblem(.shape, "mul inputs do not broadcast: \(ShapeCheck.fmt(a)) vs \(ShapeCheck.fmt(b)) (dim \(i - n) is \(pa[i]) vs \(pb[i]); sizes must match or be 1)")
            }
            out.append(max(pa[i], pb[i]))
        }
        return out
    }
    /// ConvLens: one multiply per output element. fvcore skips aten::mul; thop sees no module;
    /// ptflops does not patch Tensor.__mul__.
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: c.outputElements) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .merge }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let shapes = c.inputs.map(FormulaText.shape).joined(separator: " × ")
        return [Formula("multiply", "\(shapes) broadcast to \(FormulaText.shape(c.output)): \(FormulaText.num(c.outputElements)) multiplies")]
    }
}

extension Concat {
    /// `torch.cat([a, b, …], dim)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        .function("torch.cat([\(c.inputs.joined(separator: ", "))]" + (c.arguments.isEmpty ? "" : ", " + c.argumentList) + ")")
    }
}

extension Add {
    /// `a + b` (the residual `out += identity` without aliasing the input).
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.inputs.contains { $0.hasPrefix("*") } ? .function("sum([\(c.inputs.joined(separator: ", "))])") : .function(c.inputs.joined(separator: " + "))
    }
}

extension Mul {
    /// `a * b` (squeeze-excitation's `scale * x`, layer scale), numpy broadcasting.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.inputs.count == 2 && !c.inputs.contains { $0.hasPrefix("*") } ? .function(c.inputs.joined(separator: " * "))
            : .unsupported("mul multiplies exactly two named tensors")
    }
}

extension Concat {
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        .nodes([ONNXStep("Concat", c.inputShapes.indices.map { .input($0) }, ["axis": .int(dim)])])
    }
}

extension Add {
    /// `Add` of two tensors; more inputs are added left to right, one `Add` each.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        var steps = [ONNXStep("Add", [.input(0), .input(1)])]
        for k in 2..<max(c.inputShapes.count, 2) { steps.append(ONNXStep("Add", [.step(steps.count - 1), .input(k)])) }
        return .nodes(steps)
    }
}

extension Mul {
    /// `Mul`, numpy broadcasting as ONNX's.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling { .nodes([ONNXStep("Mul", [.input(0), .input(1)])]) }
}
