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

/// One call of a layer: what the static views need besides the layer's own arguments.
public struct LayerCall: Sendable {
    public var inputs: [[Int]]
    public var output: [Int]
    /// Training mode (batch statistics, dropout masks, auxiliary heads).
    public var training: Bool
    /// A registered module's call (hooks see it) rather than a functional call.
    public var isModule: Bool
    public init(inputs: [[Int]], output: [Int], training: Bool, isModule: Bool) {
        self.inputs = inputs; self.output = output; self.training = training; self.isModule = isModule
    }
    public var x: [Int] { inputs.first ?? [] }
    public var inputElements: Int { inputs.first.map { $0.reduce(1, *) } ?? 0 }
    public var outputElements: Int { output.reduce(1, *) }
}

/// What each operation counter counts for one call, batch included. The per-kind rules are cited
/// from each tool's source in the kind's file; the README's conventions section tabulates them.
public struct OperationCounts: Sendable, Hashable {
    /// ConvLens FLOPs: a multiply-accumulate is 2, every other arithmetic operation 1.
    public var flops: Int
    /// fvcore's count of the traced aten ops (module and functional calls alike).
    public var fvcore: Int
    /// thop's module hook (functional calls are invisible to thop; the analyzer applies that).
    public var thop: Double
    /// ptflops's module hook, before its division by the batch size.
    public var ptflopsModule: Double
    /// ptflops's patched `torch.nn.functional` / tensor call, counted for module and functional forms alike.
    public var ptflopsFunctional: Double
    public init(flops: Int, fvcore: Int = 0, thop: Double = 0, ptflopsModule: Double = 0, ptflopsFunctional: Double = 0) {
        self.flops = flops; self.fvcore = fvcore; self.thop = thop; self.ptflopsModule = ptflopsModule; self.ptflopsFunctional = ptflopsFunctional
    }
}

/// How a layer changes the receptive field of its output units.
public enum SpatialRule: Sendable, Hashable {
    /// A sliding window (conv, pooling).
    case window(Window)
    /// Every output unit sees the same pixels as its input's unit (element-wise ops, channel ops,
    /// layout changes, Linear over channels).
    case pointwise
    /// The union of the inputs' fields (torch.cat, residual add, broadcast multiply).
    case merge
    /// Adaptive average pooling to `outputSize` bins.
    case adaptive(outputSize: [Int])
    /// Each output sees the whole input map (flatten before a Linear, mean over H and W).
    case global
}

/// What a layer is, for colours and legends.
public enum LayerCategory: String, Sendable, CaseIterable {
    case convolution, normalization, activation, pooling, linear, dropout, reshape, merge, scale, parameter
}

/// One line of `convlens explain`: a label and its formula with the numbers plugged in.
public struct Formula: Sendable, Hashable {
    public var label: String
    public var text: String
    public init(_ label: String, _ text: String) { self.label = label; self.text = text }
}

/// Everything static about one PyTorch layer kind — its one home. Every requirement is answered by
/// every kind (no defaults), so a new kind that forgets one does not compile. One conforming type
/// per kind, in Layers/; the engine's kernel lives in ConvLensEngine/Kernels/.
public protocol LayerSpec: Sendable, Hashable {
    /// PyTorch's class name (`Conv2d`); for functional-only kinds, the function's name (`cat`).
    static var className: String { get }
    /// The name a zoo file writes for the module form (`Conv2d`), nil for functional-only kinds.
    static var moduleName: String? { get }
    /// The names a zoo file writes for the functional form (`F.relu`), empty for module-only kinds.
    static var functionNames: [String] { get }
    /// torch's name of the functional form as traces show it (`relu`, `cat`); `className` when none.
    static var functionName: String { get }
    static var signature: Signature { get }
    static var category: LayerCategory { get }
    /// Binds a zoo call's arguments; throws on bad values.
    init(_ arguments: BoundArguments) throws(ShapeProblem)
    /// This kind as a `Layer`.
    var layer: Layer { get }
    /// torch's `extra_repr()`: what `print(model)` shows between the parentheses.
    var extraRepr: String { get }
    /// Output shape for the given input shapes, or why they do not fit.
    func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int]
    /// Parameters in state_dict order (local names: `weight`, `bias`).
    var parameters: [TensorSpec] { get }
    /// Buffers in state_dict order (`running_mean`, …).
    var buffers: [TensorSpec] { get }
    /// torch's own initialisation of each parameter the kind can have (its `reset_parameters()`),
    /// written as the right-hand side of a zoo `init` line: what `--init default` uses when no
    /// rule of the zoo file applies. Also the names an `init KIND.NAME` rule may use.
    static var torchInit: [(parameter: String, rule: String)] { get }
    /// Textbook multiply-accumulates for one call: Conv2d and Linear only (the reference's `macs`).
    func macs(_ call: LayerCall) -> Int
    /// The operation counts of every named convention.
    func operations(_ call: LayerCall) -> OperationCounts
    /// How the receptive field passes through.
    func spatial(_ call: LayerCall) -> SpatialRule
    /// Whether the call's output is a new tensor (false for views and eval-mode identities).
    func allocates(_ call: LayerCall) -> Bool
    /// `convlens explain`'s formulas for this call, between its shape line and its receptive field.
    func formulas(_ call: LayerCall) -> [Formula]
    /// torchinfo's "Kernel Shape" column (`get_kernel_size`), nil when it shows `--`.
    var summaryKernel: String? { get }
    /// How PyTorch writes a zoo call of this kind, for `convlens export --format pytorch`: the
    /// module constructor or the forward expression (plain torch, with any helper class the kind
    /// needs), or `.unsupported` when torch has no equivalent.
    static func pytorch(_ call: PyTorchCall) -> PyTorchSpelling
    /// How ONNX (opset 18, eval mode) writes this call, for `convlens export --format onnx`: the
    /// nodes, their attributes and any constants beyond the state_dict (`ONNXSpelling.swift`), or
    /// `.unsupported` when ONNX cannot express it.
    func onnx(_ call: ONNXCall) -> ONNXSpelling
}

/// The closed set of layer kinds the zoo can use. Adding a kind: one case here, its type in
/// `LayerKinds.all` below, its description file in Layers/, its kernel file in the engine.
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
    case activation(Activation)
    case layerNorm(LayerNorm)
    case softmax(Softmax)
    case stochasticDepth(StochasticDepth)
    case permute(Permute)
    case mul(Mul)
    case mean(Mean)
    case chunk(Chunk)
    case channelShuffle(ChannelShuffle)
    case parameter(ParameterTensor)
    case groupNorm(GroupNorm)

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
        case .activation(let l): return l
        case .layerNorm(let l): return l
        case .softmax(let l): return l
        case .stochasticDepth(let l): return l
        case .permute(let l): return l
        case .mul(let l): return l
        case .mean(let l): return l
        case .chunk(let l): return l
        case .channelShuffle(let l): return l
        case .parameter(let l): return l
        case .groupNorm(let l): return l
        }
    }

    /// The class name `print(model)` shows (an activation's own: `SiLU`, `Hardswish`).
    public var className: String {
        if case .activation(let a) = self { return a.function.className }
        if case .layerNorm(let l) = self { return l.channelsFirst ? "LayerNorm2d" : "LayerNorm" }
        return type(of: spec).className
    }
    /// torch's functional name (`relu`, `cat`, `silu`).
    public var functionName: String {
        if case .activation(let a) = self { return a.function.functionName }
        return type(of: spec).functionName
    }
    public var category: LayerCategory { type(of: spec).category }
}

/// Every layer kind, for the constructor tables (and tests that walk all kinds).
public enum LayerKinds {
    public static let all: [any LayerSpec.Type] = [
        Conv2d.self, BatchNorm2d.self, Linear.self, MaxPool2d.self, AvgPool2d.self, AdaptiveAvgPool2d.self,
        ReLU.self, Dropout.self, Flatten.self, Identity.self, Concat.self, Add.self, Activation.self,
        LayerNorm.self, Softmax.self, StochasticDepth.self, Permute.self, Mul.self, Mean.self, Chunk.self,
        ChannelShuffle.self, ParameterTensor.self, GroupNorm.self,
    ]
}

/// The constructors a zoo file can call, by the name it writes.
/// Module form (`Conv2d(...)`) and functional form (`F.max_pool2d(...)`) share a signature.
enum LayerFactory {
    struct Entry: Sendable {
        let kind: any LayerSpec.Type
        let signature: Signature
        let make: @Sendable (BoundArguments) throws(ShapeProblem) -> Layer
    }

    private static func entry<T: LayerSpec>(_ t: T.Type, signature: Signature? = nil, fixed: [(String, ZooValue)] = []) -> Entry {
        Entry(kind: t, signature: signature ?? T.signature, make: { a throws(ShapeProblem) in
            var a = a
            for (k, v) in fixed { a[k] = v }
            return try T(a).layer
        })
    }

    static let modules: [String: Entry] = {
        var out: [String: Entry] = [:]
        for kind in LayerKinds.all {
            if let name = kind.moduleName { out[name] = entry(kind) }
        }
        // Activations are one kind with a function argument; each class is its own constructor.
        for f in ActivationFunction.allCases {
            out[f.className] = entry(Activation.self, signature: f.signature, fixed: [("function", .string(f.rawValue))])
        }
        out["LayerNorm2d"] = entry(LayerNorm.self, fixed: [("channels_first", .bool(true))])
        return out
    }()

    static let functions: [String: Entry] = {
        var out: [String: Entry] = [:]
        for kind in LayerKinds.all {
            for name in kind.functionNames { out[name] = entry(kind) }
        }
        return out
    }()

    /// Both tables in one, for the builder's one lookup per statement (a function name wins).
    enum Callable: Sendable { case function(Entry), module(Entry) }
    static let callables: [String: Callable] = {
        var out = modules.mapValues { Callable.module($0) }
        for (k, v) in functions { out[k] = .function(v) }
        return out
    }()
}
