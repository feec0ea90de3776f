/// A named tensor a layer owns: a parameter or a buffer, in torch's state_dict order.
public struct TensorSpec: Sendable, Hashable {
    public var name: String
    public var shape: [Int]
    public var count: Int { shape.reduce(1, *) }
    public init(_ name: String, _ shape: [Int]) { self.name = name; self.shape = shape }
}

/// The sliding window a layer applies per spatial axis (H, W), for receptive fields.
public struct Window: Sendable, Hashable {
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]
    public init(kernel: [Int], stride: [Int], padding: [Int], dilation: [Int] = [1, 1]) {
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.dilation = dilation
    }
    /// The span one output unit covers: d·(k−1)+1.
    public var effectiveKernel: [Int] { zip(kernel, dilation).map { $1 * ($0 - 1) + 1 } }
}

/// Why a shape did not work out; the graph builder adds the file position and module path.
public struct ShapeProblem: Error, Sendable {
    public var kind: ZooError.Kind
    public var message: String
    public init(_ kind: ZooError.Kind = .shape, _ message: String) { self.kind = kind; self.message = message }
}

/// Everything static about one PyTorch layer kind. One conforming type per kind, in Layers/.
public protocol LayerSpec: Sendable {
    /// PyTorch's class name (`Conv2d`); for functional-only kinds, the function's name.
    static var className: String { get }
    /// torch's `extra_repr()`: what `print(model)` shows between the parentheses.
    var extraRepr: String { get }
    /// Output shape for the given input shapes, or why they do not fit.
    func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int]
    /// Parameters in state_dict order (local names: `weight`, `bias`).
    var parameters: [TensorSpec] { get }
    /// Buffers in state_dict order (`running_mean`, …).
    var buffers: [TensorSpec] { get }
    /// Textbook multiply-accumulates for one call: Conv2d and Linear only.
    func macs(inputs: [[Int]], output: [Int]) -> Int
    /// The spatial window, for layers that slide one (conv, pooling).
    var window: Window? { get }
}

public extension LayerSpec {
    var parameters: [TensorSpec] { [] }
    var buffers: [TensorSpec] { [] }
    func macs(inputs: [[Int]], output: [Int]) -> Int { 0 }
    var window: Window? { nil }
}

/// The closed set of layer kinds the zoo can use.
public enum Layer: Sendable, Hashable {
    case conv2d(Conv2d)
    case batchNorm2d(BatchNorm2d)
    case linear(Linear)
    case maxPool2d(MaxPool2d)
    case avgPool2d(AvgPool2d)
    case adaptiveAvgPool2d(AdaptiveAvgPool2d)
    case relu(ReLU)
    case dropout(Dropout)
    case flatten(Flatten)
    case identity(Identity)
    case concat(Concat)
    case add(Add)

    public var spec: any LayerSpec {
        switch self {
        case .conv2d(let l): return l
        case .batchNorm2d(let l): return l
        case .linear(let l): return l
        case .maxPool2d(let l): return l
        case .avgPool2d(let l): return l
        case .adaptiveAvgPool2d(let l): return l
        case .relu(let l): return l
        case .dropout(let l): return l
        case .flatten(let l): return l
        case .identity(let l): return l
        case .concat(let l): return l
        case .add(let l): return l
        }
    }

    public var className: String { type(of: spec).className }
}

/// The constructors a zoo file can call, by the name it writes.
/// Module form (`Conv2d(...)`) and functional form (`F.max_pool2d(...)`) share a signature.
enum LayerFactory {
    struct Entry: Sendable {
        let signature: Signature
        let make: @Sendable (BoundArguments) throws(ShapeProblem) -> Layer
        /// The torch function a functional call stands for (`relu` for `F.relu`).
        let functionName: String?
    }

    static let modules: [String: Entry] = [
        "Conv2d": Entry(signature: Conv2d.signature, make: { a throws(ShapeProblem) in .conv2d(try Conv2d(a)) }, functionName: nil),
        "BatchNorm2d": Entry(signature: BatchNorm2d.signature, make: { a throws(ShapeProblem) in .batchNorm2d(try BatchNorm2d(a)) }, functionName: nil),
        "Linear": Entry(signature: Linear.signature, make: { a throws(ShapeProblem) in .linear(try Linear(a)) }, functionName: nil),
        "MaxPool2d": Entry(signature: MaxPool2d.signature, make: { a throws(ShapeProblem) in .maxPool2d(try MaxPool2d(a)) }, functionName: nil),
        "AvgPool2d": Entry(signature: AvgPool2d.signature, make: { a throws(ShapeProblem) in .avgPool2d(try AvgPool2d(a)) }, functionName: nil),
        "AdaptiveAvgPool2d": Entry(signature: AdaptiveAvgPool2d.signature, make: { a throws(ShapeProblem) in .adaptiveAvgPool2d(try AdaptiveAvgPool2d(a)) }, functionName: nil),
        "ReLU": Entry(signature: ReLU.signature, make: { a throws(ShapeProblem) in .relu(try ReLU(a)) }, functionName: nil),
        "Dropout": Entry(signature: Dropout.signature, make: { a throws(ShapeProblem) in .dropout(try Dropout(a)) }, functionName: nil),
        "Flatten": Entry(signature: Flatten.signature, make: { a throws(ShapeProblem) in .flatten(try Flatten(a)) }, functionName: nil),
        "Identity": Entry(signature: Signature([]), make: { _ throws(ShapeProblem) in .identity(Identity()) }, functionName: nil),
    ]

    static let functions: [String: Entry] = [
        "F.relu": Entry(signature: ReLU.signature, make: { a throws(ShapeProblem) in .relu(try ReLU(a)) }, functionName: "relu"),
        "F.max_pool2d": Entry(signature: MaxPool2d.signature, make: { a throws(ShapeProblem) in .maxPool2d(try MaxPool2d(a)) }, functionName: "max_pool2d"),
        "F.avg_pool2d": Entry(signature: AvgPool2d.signature, make: { a throws(ShapeProblem) in .avgPool2d(try AvgPool2d(a)) }, functionName: "avg_pool2d"),
        "F.adaptive_avg_pool2d": Entry(signature: AdaptiveAvgPool2d.signature, make: { a throws(ShapeProblem) in .adaptiveAvgPool2d(try AdaptiveAvgPool2d(a)) }, functionName: "adaptive_avg_pool2d"),
        "F.dropout": Entry(signature: Dropout.signature, make: { a throws(ShapeProblem) in .dropout(try Dropout(a)) }, functionName: "dropout"),
        "torch.flatten": Entry(signature: Flatten.signature, make: { a throws(ShapeProblem) in .flatten(try Flatten(a)) }, functionName: "flatten"),
        "torch.cat": Entry(signature: Concat.signature, make: { a throws(ShapeProblem) in .concat(try Concat(a)) }, functionName: "cat"),
        "add": Entry(signature: Signature([]), make: { _ throws(ShapeProblem) in .add(Add()) }, functionName: "add"),
        "torch.add": Entry(signature: Signature([]), make: { _ throws(ShapeProblem) in .add(Add()) }, functionName: "add"),
    ]
}
