import ConvLensGraph

/// Which forward pass the analysis describes.
public enum AnalysisMode: String, Sendable, CaseIterable, Codable {
    /// Auxiliary heads are not executed; dropout is the identity (what torch's `model.eval()` runs).
    case eval
    /// Auxiliary heads included in shapes, MACs and memory (what `model.train()` runs).
    case train
}

/// Whose rules the `flops` numbers follow. `convlens` is ConvLens's own FLOPs definition
/// (see analysis-conventions); the others reproduce one tool's total exactly.
public enum FlopConvention: String, Sendable, CaseIterable, Codable {
    case convlens, torchinfo, fvcore, thop, ptflops

    /// What the tool calls its number.
    public var quantity: String {
        switch self {
        case .convlens: return "FLOPs"
        case .torchinfo: return "mult-adds"
        case .fvcore: return "flops (fvcore counts one per multiply-accumulate)"
        case .thop: return "MACs"
        case .ptflops: return "MACs"
        }
    }
}

/// What a row describes: a module call, a functional call, or a container module's call.
public enum RowKind: String, Sendable, Codable {
    case module, function, container
}

/// The theoretical receptive field of one output unit, per spatial axis (H, W), following
/// Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks" (Distill, 2019).
/// Input pixels are indexed 0, 1, …; the field is not clipped to the input (it may start at a
/// negative index because of padding).
public struct ReceptiveField: Sendable, Hashable {
    /// r: input pixels one output unit sees (dilation counted).
    public var size: [Int]
    /// j: input pixels between neighbouring output units (the product of strides).
    public var jump: [Int]
    /// u: the first input pixel of the first output unit's field.
    public var left: [Int]
    /// False where merged branches disagree on jump or centre, or an adaptive pool has uneven bins:
    /// the field is then the union (an upper bound) and the centres are approximate.
    public var aligned: Bool
    /// A tensor that does not depend on the input (a parameter such as ConvNeXt's layer_scale):
    /// it has no field, and merging with it leaves the other operand's field unchanged.
    public var constant = false

    public init(size: [Int], jump: [Int], left: [Int], aligned: Bool = true) {
        self.size = size; self.jump = jump; self.left = left; self.aligned = aligned
    }

    public static let constantValue: ReceptiveField = {
        var f = ReceptiveField(size: [0, 0], jump: [1, 1], left: [0, 0]); f.constant = true; return f
    }()

    /// The model input: every pixel sees itself.
    public static let input = ReceptiveField(size: [1, 1], jump: [1, 1], left: [0, 0])

    /// Centre of the first output unit's field, in input pixel coordinates: u + (r − 1)/2.
    public var start: [Double] { zip(left, size).map { Double($0) + Double($1 - 1) / 2 } }
}

/// One row of the analysis, in execution order; a container comes before its children.
public struct AnalysisRow: Sendable {
    /// Torch module path (repeated when a module is called twice); for a functional call, the
    /// graph's readable unique name (`layer1.0.add`).
    public var name: String
    /// PyTorch's class name (`Conv2d`, `BasicBlock`) or the function's name (`relu`, `cat`).
    public var type: String
    public var kind: RowKind
    /// Module depth: `features` is 1, `features.0` is 2; a functional call is one deeper than its container.
    public var depth: Int
    /// The graph node (module and function rows).
    public var node: Int?
    /// The module (module and container rows).
    public var module: Int?
    /// For containers: the graph nodes the call ran, in execution order (empty for other rows).
    public var nodes: [Int]
    public var inputShapes: [[Int]]
    public var outputShape: [Int]
    /// Parameters the module owns (a container: its whole subtree, executed or not).
    public var params: Int
    public var trainableParams: Int
    public var buffers: Int
    /// Textbook multiply-accumulates (containers: the sum over the call).
    public var macs: Int
    /// The count under the analysis' convention (containers: the sum over the call).
    public var flops: Int
    public var rf: ReceptiveField
    /// The field of the spatial path alone, where it differs from `rf` because a global-context
    /// branch (squeeze-excitation: pool to 1×1, then multiply back) makes every unit see the whole
    /// input: `rf` is then the honest field, this the local one. nil when the two agree.
    public var spatialRF: ReceptiveField? = nil
    /// Bytes of the output tensor (float32).
    public var outputBytes: Int
    /// A module called a second time (ResNet's `relu`): its parameters are already counted.
    public var repeated: Bool
    /// Runs only in training mode (auxiliary heads).
    public var trainOnly: Bool

    public var frozenParams: Int { params - trainableParams }
}

/// Model-wide totals. Parameters and buffers count every module (executed or not, as
/// `model.parameters()` does); MACs, FLOPs and activations count the nodes the mode executes.
public struct AnalysisTotals: Sendable {
    public var params: Int
    public var trainableParams: Int
    public var nonTrainableParams: Int { params - trainableParams }
    public var buffers: Int
    public var macs: Int
    public var flops: Int
    /// float32 parameters: 4 bytes each.
    public var paramBytes: Int
    /// Buffers: float32 running statistics, int64 `num_batches_tracked`.
    public var bufferBytes: Int
    public var inputBytes: Int
    /// Every tensor the forward pass produces (views excluded), batch included.
    public var activationBytes: Int
    /// Training memory with SGD + momentum; see `Memory.trainingBytes` for the assumptions.
    public var trainingBytes: Int
}

/// The analysis of one graph in one mode under one FLOPs convention.
public struct Analysis: Sendable {
    public var graph: ModelGraph
    public var mode: AnalysisMode
    public var convention: FlopConvention
    public var rows: [AnalysisRow]
    public var totals: AnalysisTotals
    /// Row index of each graph node (nodes the mode does not execute have none).
    public var rowOfNode: [Int: Int]
    /// Row index of each container module's (first) call.
    public var rowOfModule: [Int: Int]

    public var model: String { graph.name }
    public var inputShape: [Int] { graph.inputShape }

    public func row(node: Int) -> AnalysisRow? { rowOfNode[node].map { rows[$0] } }
    public func row(module: Int) -> AnalysisRow? { rowOfModule[module].map { rows[$0] } }

    /// Conv2d and Linear calls executed: the "depth" papers quote (VGG16 → 16).
    public var weightLayerCount: Int {
        rows.filter { $0.kind == .module && ($0.type == "Conv2d" || $0.type == "Linear") }.count
    }

    /// The last row (not a container) whose output is a feature map larger than 1×1: the
    /// receptive field "at the end of the features".
    public var lastFeatureMap: AnalysisRow? {
        rows.last { $0.kind != .container && $0.outputShape.count == 4 && $0.outputShape[2] * $0.outputShape[3] > 1 }
    }
}
