import ConvLensGraph

/// The engine's view of a layer kind. This is the one place a new layer kind must be answered on
/// the engine side (the compiler points here, exhaustively). A new kind conforms to `KindKernel`
/// in its own kernel file (forward, backward and what backward reads, together) and maps to
/// `.kernel` here; the classic kinds keep their cases, whose kernels the engine's forward and
/// backward passes call directly (they take part in fusions: ReLU into max pooling, in-place
/// gradients).
enum KernelOp {
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
    /// A kind whose kernels live with it (`KindKernel`).
    case kernel(any KindKernel)
}

extension Layer {
    var kernel: KernelOp {
        switch self {
        case .conv2d(let l): return .conv2d(l)
        case .batchNorm2d(let l): return .batchNorm2d(l)
        case .linear(let l): return .linear(l)
        case .maxPool2d(let l): return .maxPool2d(l)
        case .avgPool2d(let l): return .avgPool2d(l)
        case .adaptiveAvgPool2d(let l): return .adaptiveAvgPool2d(l)
        case .relu(let l): return .relu(l)
        case .dropout(let l): return .dropout(l)
        case .flatten(let l): return .flatten(l)
        case .identity(let l): return .identity(l)
        case .concat(let l): return .concat(l)
        case .add(let l): return .add(l)
        case .activation(let l): return .kernel(l)
        case .layerNorm(let l): return .kernel(l)
        case .softmax(let l): return .kernel(l)
        case .stochasticDepth(let l): return .kernel(l)
        case .permute(let l): return .kernel(l)
        case .mul(let l): return .kernel(l)
        case .mean(let l): return .kernel(l)
        case .chunk(let l): return .kernel(l)
        case .channelShuffle(let l): return .kernel(l)
        case .parameter(let l): return .kernel(l)
        case .groupNorm(let l): return .kernel(l)
        }
    }
}

/// What a kind's backward reads from the forward pass, besides what its forward saves itself
/// (`KernelCall.save`): the engine keeps these tensors alive until the node's backward has run.
struct KernelKeeps: Sendable {
    var inputs = false
    var output = false
    static let nothing = KernelKeeps()
    static let inputs = KernelKeeps(inputs: true)
    static let output = KernelKeeps(output: true)
}

/// How `verify`'s central differences probe a kind (Verify+Checks.swift).
struct GradientProbe: Sendable {
    /// The step h: small (1e-2) for piecewise functions whose inputs are kept off their kinks,
    /// large (1e-1) for smooth ones, where one coordinate reaches many outputs and float32 noise ∝ 1/h.
    var step: Float
    /// Inputs are N(0, scale²) …
    var scale: Float = 1
    /// … kept 0.05 away from these points (the kinks of piecewise-linear functions).
    var kinks: [Float] = []
    /// Whole-model checks replay this node's pieces from the base point: forward reads
    /// `KernelCall.frozenInput` and keeps each element on the piece it chose there.
    var freezesInput = false
    /// Affine in each input once its pieces are frozen (views, sums, means, masks, ReLU6's pieces):
    /// a whole model of such kinds is affine along a direction in eval mode, so verify can take a
    /// large step there. False for curved kinds (sigmoid, SiLU, GELU, norms, products).
    var piecewiseAffine: Bool
    static let smooth = GradientProbe(step: 1e-1, piecewiseAffine: false)
    static let linear = GradientProbe(step: 1e-1, piecewiseAffine: true)
}

/// A layer kind's engine side, in one place: the forward kernel, the backward kernel, and what the
/// backward reads. Requirements have no defaults: a kind that conforms answers all of them.
protocol KindKernel: Sendable {
    var keeps: KernelKeeps { get }
    /// How `verify`'s central differences probe the kind.
    var probe: GradientProbe { get }
    /// The state_dict keys of the parameters whose gradients `backward` accumulates (verify's local
    /// check perturbs them).
    func parameterKeys(_ call: KernelCall) -> [String]
    /// The node's output from its inputs (`xs`, in the node's input order).
    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor
    /// Accumulates ∂loss/∂input into `dxs` (nil: that gradient is not wanted) and the parameters'
    /// gradients (`call.gradient`) from `dy`. `xs` and `y` hold what `keeps` asked for (nil otherwise).
    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError)
}

/// One node's view of the engine while its kernels run: its parameters and their gradients by
/// local name, the mode, the tensors it saved for backward, the run's random source.
struct KernelCall {
    let engine: Engine
    let node: GraphNode
    let training: Bool

    /// The state_dict key of one of the node's tensors: its module's (`weight`), or for a parameter
    /// owned by a container, the enclosing module's.
    func key(_ local: String) -> String {
        let owner = node.module ?? node.scope.last ?? 0
        return engine.graph.modules[owner].key(local)
    }
    /// The node's parameter or buffer `local`, nil if it has none by that name.
    func parameter(_ local: String) -> Tensor? { engine.state[key(local)] }
    /// The accumulated gradient of the node's parameter `local`.
    func gradient(_ local: String) -> Tensor? { engine.gradients[key(local)] }

    /// Keeps `tensors` for the node's backward.
    func save(_ tensors: [Tensor]) { engine.saved[node.index] = .tensors(tensors) }
    /// What forward saved; a missing entry is an error (never a silently zero gradient).
    func savedTensors(_ count: Int) throws(EngineError) -> [Tensor] {
        guard case .tensors(let t) = engine.saved[node.index], t.count == count else {
            throw EngineError("\(node.name): backward found no saved tensors from the forward pass (forward must run in the same mode first)")
        }
        return t
    }
    /// The input tensor `i` that `keeps.inputs` kept.
    func input(_ xs: [Tensor?], _ i: Int = 0) throws(EngineError) -> Tensor {
        guard i < xs.count, let x = xs[i] else { throw EngineError("\(node.name): backward needs input \(i), which the forward pass did not keep") }
        return x
    }
    /// The output that `keeps.output` kept.
    func output(_ y: Tensor?) throws(EngineError) -> Tensor {
        guard let y else { throw EngineError("\(node.name): backward needs the output, which the forward pass did not keep") }
        return y
    }
    /// The node's input at verify's base point when its probe freezes it (nil otherwise).
    var frozenInput: Tensor? { engine.frozen?.inputs[node.index] }
    /// Whether random drops (dropout-like masks) apply: train mode, except the calibration pass.
    var drops: Bool { training && !engine.calibratesRunningStatistics }
    /// A uniform draw in [0, 1) from the run's seeded sequence (dropout-like masks).
    func uniform() -> Double { engine.rng.uniform() }
}
