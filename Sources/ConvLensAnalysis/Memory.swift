import ConvLensGraph

/// Optimizer state kept per parameter, for the training-memory estimate.
public enum Optimizer: String, Sendable, CaseIterable {
    /// Plain SGD: no state.
    case sgd
    /// SGD with momentum (the seed's recipe family, torchvision's reference scripts): one buffer per parameter.
    case sgdMomentum = "sgd-momentum"
    /// Adam / AdamW: exp_avg and exp_avg_sq, two buffers per parameter.
    case adam

    public var stateTensorsPerParameter: Int {
        switch self { case .sgd: return 0; case .sgdMomentum: return 1; case .adam: return 2 }
    }
}

/// Byte counts. Assumptions: float32 tensors (4 bytes), int64 `num_batches_tracked` (8 bytes);
/// the batch size is the input's N.
public enum Memory {
    public static let floatBytes = 4

    /// Whether a node's output is a view or alias of its input and allocates nothing:
    /// flatten and identity always, dropout in eval mode (identity there).
    static func isView(_ n: GraphNode, mode: AnalysisMode) -> Bool {
        !n.spec.allocates(n.call(training: mode == .train))
    }

    public static func outputBytes(_ n: GraphNode) -> Int { numel(n.outputShape) * floatBytes }

    /// Every tensor the forward pass of `mode` produces (views excluded), in bytes. In-place ReLUs
    /// are counted as separate tensors, so this is an upper bound on what torch allocates.
    public static func activationBytes(_ g: ModelGraph, mode: AnalysisMode) -> Int {
        g.nodes.reduce(0) { s, n in (n.trainOnly && mode == .eval) || isView(n, mode: mode) ? s : s + outputBytes(n) }
    }

    public static func bufferBytes(_ g: ModelGraph) -> Int {
        g.stateDict().filter(\.isBuffer).reduce(0) { $0 + numel($1.shape) * ($1.localName == "num_batches_tracked" ? 8 : floatBytes) }
    }

    /// One training step's resident memory:
    ///   input + activations kept for backward (every train-mode node output, aux heads included)
    ///   + weights + gradients (one per parameter) + optimizer state + buffers.
    /// Activations kept for backward are approximated by all forward outputs of train mode.
    /// When a training-only head does not fit the input, the eval-mode nodes are used.
    public static func trainingBytes(_ g: ModelGraph, optimizer: Optimizer = .sgdMomentum) -> Int {
        let mode: AnalysisMode = g.trainingProblem == nil ? .train : .eval
        return trainingBytes(inputBytes: numel(g.inputShape) * floatBytes, activationBytes: activationBytes(g, mode: mode),
                             paramBytes: g.parameterCount * floatBytes, bufferBytes: bufferBytes(g), optimizer: optimizer)
    }

    /// input + activations + weights + gradients + optimizer state + buffers.
    public static func trainingBytes(inputBytes: Int, activationBytes: Int, paramBytes: Int, bufferBytes: Int,
                                     optimizer: Optimizer = .sgdMomentum) -> Int {
        inputBytes + activationBytes + paramBytes * (2 + optimizer.stateTensorsPerParameter) + bufferBytes
    }
}
