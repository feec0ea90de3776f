/// One graph call handed to a layer kind's `onnx(_:)` by the ONNX exporter
/// (`convlens export --format onnx`): the shapes the graph inferred for it (every shape is static
/// in an export), in eval mode.
public struct ONNXCall: Sendable {
    public var inputShapes: [[Int]]
    public var outputShape: [Int]
    /// A registered module's call rather than a functional one.
    public var isModule: Bool
    /// torch's print of the module (`ReLU(inplace=True)`): the zoo constructor that gives this
    /// layer back, for a kind whose `extraRepr` states every argument.
    public var repr: String

    public init(inputShapes: [[Int]], outputShape: [Int], isModule: Bool, repr: String) {
        self.inputShapes = inputShapes; self.outputShape = outputShape; self.isModule = isModule; self.repr = repr
    }
    public var x: [Int] { inputShapes.first ?? [] }
}

/// An ONNX attribute value.
public enum ONNXAttributeValue: Sendable, Hashable {
    case int(Int)
    case ints([Int])
    case float(Double)
    case floats([Double])
    case string(String)
}

/// Where an ONNX node's input comes from, within one call's spelling.
public enum ONNXOperand: Sendable, Hashable {
    /// The call's input tensor `k`.
    case input(Int)
    /// One of the module's parameters or buffers by its local name (`weight`): the initializer
    /// under its state_dict key.
    case parameter(String)
    /// One of the spelling's own constants, by its name (an initializer of the export).
    case constant(String)
    /// Output `output` of the spelling's step `step`.
    case step(Int, output: Int)
    /// An optional input left out (ONNX's empty name).
    case absent

    /// The first output of step `i`.
    public static func step(_ i: Int) -> ONNXOperand { .step(i, output: 0) }
}

/// A constant a spelling needs beyond the module's state_dict (Clip's bounds, Reshape's target shape,
/// ReduceMean's axes): an initializer named after the node and this name.
public struct ONNXConstant: Sendable, Hashable {
    public enum Values: Sendable, Hashable { case float([Float]), int64([Int64]) }
    public var name: String
    public var dims: [Int]
    public var values: Values
    public init(_ name: String, dims: [Int], floats: [Float]) { self.name = name; self.dims = dims; values = .float(floats) }
    public init(_ name: String, dims: [Int], int64s: [Int]) { self.name = name; self.dims = dims; values = .int64(int64s.map(Int64.init)) }
    /// A float scalar (rank 0).
    public static func scalar(_ name: String, _ v: Double) -> ONNXConstant { ONNXConstant(name, dims: [], floats: [Float(v)]) }
    /// A 1-D int64 vector (shapes, axes).
    public static func ints(_ name: String, _ v: [Int]) -> ONNXConstant { ONNXConstant(name, dims: [v.count], int64s: v) }
}

/// One ONNX node of a spelling (ai.onnx domain, opset 18).
public struct ONNXStep: Sendable, Hashable {
    public var opType: String
    public var inputs: [ONNXOperand]
    public var attributes: [String: ONNXAttributeValue]
    /// How many outputs the node has (Split's pieces); the spelling names them.
    public var outputs: Int
    public init(_ opType: String, _ inputs: [ONNXOperand], _ attributes: [String: ONNXAttributeValue] = [:], outputs: Int = 1) {
        self.opType = opType; self.inputs = inputs; self.attributes = attributes; self.outputs = outputs
    }
}

/// How one call of a layer kind is written in ONNX: a few nodes, in order, and which of their
/// outputs is the call's output.
public enum ONNXSpelling: Sendable {
    /// `steps` run in order; `result` is the call's output (the last step's first output when nil).
    /// `module` is the zoo constructor that gives the module back on import (ConvLens's own
    /// `pkg.convlens.module` node metadata), nil when ONNX's attributes say everything.
    case nodes([ONNXStep], constants: [ONNXConstant] = [], result: ONNXOperand? = nil, module: String? = nil)
    /// ONNX has no way to write it (the reason, for a one-line error).
    case unsupported(String)

    /// A single node reading the call's input 0 (and `extra` operands after it).
    public static func op(_ opType: String, _ extra: [ONNXOperand] = [], _ attributes: [String: ONNXAttributeValue] = [:],
                          constants: [ONNXConstant] = [], module: String? = nil) -> ONNXSpelling {
        .nodes([ONNXStep(opType, [.input(0)] + extra, attributes)], constants: constants, module: module)
    }
}

/// ONNX's symmetric `pads` for torch's per-axis padding: [top, left, bottom, right].
public func onnxPads(_ padding: [Int]) -> [Int] { padding + padding }
