import ConvLensGraph

/// Runs a `ModelGraph` forward (eval or train) and backward, on float32 NCHW tensors.
///
/// Parameters and buffers live in `state` under torch's state_dict keys; a module called twice
/// (ResNet's `relu`) finds the same tensors, so its parameters are shared and their gradients
/// accumulate. Gradients accumulate into `gradients` (same keys, parameters only) until
/// `zeroGradients()`; gradients of a tensor with several consumers are summed.
///
/// Typical use (what `convlens run` and the trainer do):
///
///     let engine = try Engine(graph: graph, weights: HashInit.stateDict(graph))
///     let logits = try engine.forward(input, training: true)
///     let (loss, dlogits) = engine.crossEntropy(targets: targets)  // includes aux heads
///     engine.zeroGradients()
///     let gradInput = engine.backward(dlogits)
public final class Engine: @unchecked Sendable {
    public let graph: ModelGraph
    /// Parameters and buffers by state_dict key.
    public internal(set) var state: [String: Tensor]
    /// Parameter gradients by state_dict key (accumulated; see `zeroGradients`).
    public internal(set) var gradients: [String: Tensor]
    /// Parameter keys in state_dict order.
    public let parameterKeys: [String]
    /// Buffer keys (running statistics, num_batches_tracked) in state_dict order.
    public let bufferKeys: [String]
    /// Seeds the dropout masks; `resetDropout()` restarts the sequence.
    public var dropoutSeed: UInt64 { didSet { rng = RandomSource(seed: dropoutSeed) } }
    /// Multiply-accumulates the conv and linear kernels performed in the last forward pass.
    public internal(set) var forwardMACs = 0
    /// Main-loss weight of each auxiliary head (torchvision's training recipes: GoogLeNet
    /// loss = main + 0.3·(aux1 + aux2); Inception3 loss = main + 0.4·aux).
    public var auxLossWeight: Float

    /// Train-mode batch norm sets the running statistics to the average of the batch statistics of
    /// the calibration passes so far (momentum 1/`calibrationPass`): `verify` calibrates random
    /// weights this way, so that eval mode normalises as a trained model's does. Dropout and
    /// stochastic depth stay off in those passes: the statistics are those of eval mode's signal.
    var calibratesRunningStatistics = false
    /// The calibration pass being run, from 1.
    var calibrationPass = 1

    var rng: RandomSource
    var plan: [NodePlan] = []
    /// Built with `fuse: true`: fusions, Winograd, and the eval fast path (InferencePlan.swift).
    let fuses: Bool
    /// The eval fast path's fused chains (planned once; see `planEvalFusions`).
    var inferencePlan = InferencePlan()
    /// Batch norms folded into their convolutions, by convolution node: OC·K weights then OC biases.
    var folded: [Int: Tensor] = [:]
    /// Bumped whenever the weights may change (train-mode forward, backward, `setState`,
    /// `weightsChanged`): the folded weights are recomputed at the next fast-path forward.
    var weightGeneration = 0
    /// The fast path's filters transformed once per weights, by convolution node: Winograd's U
    /// (Conv2dWinograd.swift) or the 1×1 kernel's panels (Conv2dPointwise.swift).
    var transformedFilters: [Int: Tensor] = [:]
    /// The arena every pass's large tensors live in (planned from liveness, see `Arena`).
    let arena = Arena()
    /// Passes place their tensors in `arena` (off: every tensor from malloc, to compare).
    var usesArena = true
    var foldedGeneration = -1
    /// The last forward pass: outputs and saved state per node index, in execution order.
    var outputs: [Tensor?] = []
    var saved: [Saved?] = []
    var executed: [Int] = []
    var lastTraining = false
    var lastInput: Tensor?
    var col: Tensor
    /// For gradient checks only: ReLU masks and max-pool choices replayed from a reference pass, so
    /// central differences see the piecewise-smooth function whose gradient backward computes.
    var frozen: FrozenDecisions?

    struct FrozenDecisions {
        var relu: [Int: Tensor] = [:]
        var pool: [Int: [Int32]] = [:]
        /// Outputs at the base point of max pools that apply a fused ReLU: > 0 where it lets through.
        var poolRelu: [Int: Tensor] = [:]
        /// Inputs at the base point of the nodes whose probe freezes them (piecewise activations:
        /// each element keeps its piece).
        var inputs: [Int: Tensor] = [:]
    }

    /// What a node's backward keeps from the forward pass.
    enum Saved {
        case indices([Int32])
        case stats(mean: Tensor, invstd: Tensor)
        case mask(Tensor)
        /// What a `KindKernel`'s forward saved (`KernelCall.save`).
        case tensors([Tensor])
    }

    /// Node facts computed once: parameter keys and geometry.
    struct NodePlan {
        var weight: String?
        var bias: String?
        var runningMean: String?
        var runningVar: String?
        var numBatches: String?
        var conv: ConvGeometry?
        /// Its backward reads this node's inputs (conv, batch norm, linear).
        var needsInputs: Bool
        /// Its backward reads its own output (ReLU).
        var needsOutput: Bool
        /// A ReLU whose only consumer is a max pool that applies it (see `fuseReluIntoPools`).
        var reluFusedIntoPool = false
        /// A max pool that applies the ReLU in front of it to its pooled output.
        var poolAppliesRelu = false
    }

    /// An engine over `weights`, which must hold exactly the graph's state_dict (parameters and
    /// buffers) with the right shapes; otherwise the error lists every missing, unexpected and
    /// wrongly shaped key. The engine takes the tensors as they are (no copy: it shares their storage).
    /// `fuse: false` runs every node as the graph says, with its direct kernel (no
    /// `fuseReluIntoPools`, no Winograd convolutions): `verify` checks each node's own kernel that way.
    public init(graph: ModelGraph, weights: [String: Tensor], dropoutSeed: UInt64 = 0, fuse: Bool = true) throws(EngineError) {
        self.graph = graph
        fuses = fuse
        let entries = graph.stateDict()
        var missing: [String] = [], wrong: [String] = []
        for e in entries {
            guard let t = weights[e.key] else { missing.append(e.key); continue }
            if t.shape != e.shape && !(e.shape.isEmpty && t.count == 1) { wrong.append("\(e.key) has shape \(t.shape), expected \(e.shape)") }
        }
        let known = Set(entries.map(\.key))
        let unexpected = weights.keys.filter { !known.contains($0) }.sorted()
        if !missing.isEmpty || !unexpected.isEmpty || !wrong.isEmpty {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: " + missing.joined(separator: ", ")) }
            if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.joined(separator: ", ")) }
            if !wrong.isEmpty { parts.append("wrong shapes: " + wrong.joined(separator: "; ")) }
            throw EngineError("weights do not match \(graph.name): " + parts.joined(separator: "; "))
        }
        state = [:]
        for e in entries { state[e.key] = weights[e.key]!.reshaped(e.shape) }   // shares the caller's storage
        parameterKeys = entries.filter { !$0.isBuffer }.map(\.key)
        bufferKeys = entries.filter(\.isBuffer).map(\.key)
        gradients = [:]
        self.dropoutSeed = dropoutSeed
        rng = RandomSource(seed: dropoutSeed)
        auxLossWeight = Float(graph.source.auxLossWeight)
        col = Tensor(zeros: [1])
        plan = graph.nodes.map(makePlan)
        if fuse {
            fuseReluIntoPools()
            inferencePlan = planEvalFusions()
        } else {
            for i in plan.indices { plan[i].conv?.winograd = false }
        }
        let fast = inferencePlan.chains.values.map(\.geometry)     // empty without `fuse`
        let colCount = (plan.compactMap { $0.conv?.colCount } + fast.map(\.colCount)).max() ?? 1
        // Refuse a run that cannot fit before allocating it (the weights are already counted:
        // they are mapped). Forward keeps every output and backward adds one gradient per output.
        let outputs = graph.nodes.reduce(0) { $0 + $1.outputShape.reduce(1, *) }
        let params = parameterKeys.reduce(0) { $0 + state[$1]!.count }
        // The fast path's filters, transformed once per weights (Winograd: α² floats per 3×3 filter).
        let transformed = fast.reduce(0) { $0 + $1.transformedFilterCount }
        let tensorBytes = 4 * (2 * outputs + params + transformed + colCount * BLAS.threads + graph.inputShape.reduce(1, *))
        if let problem = MemoryBudget.problem(tensorBytes: tensorBytes, threads: BLAS.threads,
                                              what: "\(graph.name) at input \(graph.inputShape.map(String.init).joined(separator: "×"))") {
            throw EngineError(problem)
        }
        for k in parameterKeys { gradients[k] = Tensor(zeros: state[k]!.shape) }
        col = Tensor(zeros: [max(colCount, 1)])
    }

    func makePlan(_ node: GraphNode) -> NodePlan {
        let key: (String) -> String? = { local in
            guard let m = node.module else { return nil }
            let k = self.graph.modules[m].key(local)
            return self.state[k] != nil ? k : nil
        }
        var p = NodePlan(weight: key("weight"), bias: key("bias"), runningMean: key("running_mean"), runningVar: key("running_var"),
                         numBatches: key("num_batches_tracked"), conv: nil, needsInputs: false, needsOutput: false)
        switch node.layer.kernel {
        case .conv2d(let l):
            p.conv = ConvGeometry(input: node.inputShapes[0], output: node.outputShape, layer: l)
            p.needsInputs = true
        case .batchNorm2d, .linear: p.needsInputs = true
        case .relu: p.needsOutput = true
        case .kernel(let k): p.needsInputs = k.keeps.inputs; p.needsOutput = k.keeps.output
        case .maxPool2d, .avgPool2d, .adaptiveAvgPool2d, .dropout, .flatten, .identity, .concat, .add: break
        }
        return p
    }

    /// ReLU then max pooling equals max pooling then ReLU (both are monotone), so when a ReLU's only
    /// consumer is a max pool the pool reads the ReLU's input and applies the ReLU to its output,
    /// a quarter of the size for 2×2 pools. The full-size ReLU output is never written, and in
    /// backward the pool routes each gradient straight to the ReLU's input where its output is
    /// positive — exactly where the ReLU's own backward would have let it through — replacing a
    /// zero-fill and two passes over the full-size tensors. Where a window is all ≤ 0 the pool's
    /// choice may differ from torch's (which picks the first of the ReLU's zeros), but no gradient
    /// flows there either way, so outputs and gradients are the same.
    func fuseReluIntoPools() {
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for n in graph.nodes { for i in n.inputs where i >= 0 { consumers[i].append(n.index) } }
        let results = Set([graph.output] + graph.auxOutputs)
        for r in graph.nodes {
            guard case .relu = r.layer.kernel, r.inputs.count == 1, !results.contains(r.index), consumers[r.index].count == 1 else { continue }
            let pool = graph.nodes[consumers[r.index][0]]
            guard case .maxPool2d = pool.layer.kernel, pool.inputs == [r.index] else { continue }
            plan[r.index].reluFusedIntoPool = true
            plan[r.index].needsOutput = false
            plan[pool.index].poolAppliesRelu = true
            plan[pool.index].needsOutput = true
        }
    }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        for t in gradients.values { t.fill(0) }
    }

    /// Restarts the dropout mask sequence from `dropoutSeed`.
    public func resetDropout() { rng = RandomSource(seed: dropoutSeed) }

    /// Replaces a parameter or buffer's values (same shape).
    public func setState(_ key: String, _ t: Tensor) throws(EngineError) {
        guard let old = state[key] else { throw EngineError("\(graph.name) has no parameter or buffer '\(key)'") }
        guard old.count == t.count else { throw EngineError("\(key) has shape \(old.shape), got \(t.shape)") }
        old.data.update(from: t.data, count: t.count)
        weightsChanged()
    }

    /// Tells the engine that parameters or buffers were written in place (through `state`'s
    /// storage) outside a training step: the eval fast path folds batch norms into convolutions
    /// once per change of the weights, and a train-mode forward, `backward` and `setState` say so
    /// by themselves.
    public func weightsChanged() { weightGeneration &+= 1 }

    /// The auxiliary heads' outputs of the last training-mode forward pass, by head module path
    /// (`aux1`, `aux2`, `AuxLogits`).
    public var auxLogits: [(name: String, logits: Tensor)] {
        graph.auxOutputs.compactMap { i in
            guard i < outputs.count, let t = outputs[i] else { return nil }
            let n = graph.nodes[i]
            let head = n.scope.first.map { graph.modules[$0].path } ?? n.name
            return (head, t)
        }
    }
}
