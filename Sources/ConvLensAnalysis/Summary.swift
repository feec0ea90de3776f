import ConvLensGraph

/// A column the summary table can show. `output` and `params` are torchinfo's defaults.
public enum SummaryColumn: String, Sendable, CaseIterable {
    case input, output, kernel, params, multadds, macs, flops, rf, memory

    /// The header torchinfo prints (its own columns) or ConvLens's (the extra ones).
    public var title: String {
        switch self {
        case .input: return "Input Shape"
        case .output: return "Output Shape"
        case .kernel: return "Kernel Shape"
        case .params: return "Param #"
        case .multadds: return "Mult-Adds"
        case .macs: return "MACs"
        case .flops: return "FLOPs"
        case .rf: return "Receptive Field"
        case .memory: return "Output Bytes"
        }
    }

    public static let torchinfoDefault: [SummaryColumn] = [.output, .params]
}

/// One row of torchinfo's table: the root model, then every module call and container call in
/// the order torchinfo's forward pre-hooks see them (functional calls are invisible to it).
public struct SummaryRow: Sendable {
    public var className: String
    public var depth: Int
    /// torchinfo's depth index: a running count of rows at the same depth over the whole model.
    public var depthIndex: Int
    public var params: Int
    public var trainableParams: Int
    public var isLeaf: Bool
    /// A module called again (torchinfo's "(recursive)").
    public var isRecursive: Bool
    /// Parameters not accounted for by the rows below it (torchinfo's leftover_params): how the
    /// parameters of modules that never ran (auxiliary heads in eval) reach the total.
    public var leftover: Int
    /// torchinfo's per-row mult-adds (layer_info.calculate_macs), summed only over leaves.
    public var torchinfoMacs: Int
    /// The analysis row (nil for the root).
    public var row: AnalysisRow?
    public var outputShape: [Int]

    /// `Conv2d: 2-1`, or the bare class name at depth 0.
    public var label: String { depth == 0 ? className : "\(className): \(depth)-\(depthIndex)" }
}

/// torchinfo.summary(model, input_size, depth=N) reproduced from an analysis (torchinfo 1.8.0,
/// model_statistics.py and formatting.py).
public struct Summary: Sendable {
    public var analysis: Analysis
    public var rows: [SummaryRow]

    public init(_ a: Analysis) {
        analysis = a
        let g = a.graph
        let outShape = g.nodes[g.output].outputShape
        var list: [SummaryRow] = [SummaryRow(className: g.className, depth: 0, depthIndex: 0, params: g.parameterCount,
                                             trainableParams: g.parameterCount, isLeaf: g.modules.count == 1, isRecursive: false,
                                             leftover: 0, torchinfoMacs: 0, row: nil, outputShape: outShape)]
        var counters: [Int: Int] = [:]
        for r in a.rows where r.kind != .function {
            counters[r.depth, default: 0] += 1
            var macs = 0
            if r.kind == .module, let n = r.node {
                macs = FlopConvention.torchinfoMultAdds(g.nodes[n])
            } else if r.params > 0, r.outputShape.count >= 2 {
                macs = r.outputShape[0] * r.outputShape[1] * r.params   // calculate_macs on "x.weight"-style names
            }
            list.append(SummaryRow(className: r.type, depth: r.depth, depthIndex: counters[r.depth]!, params: r.params,
                                   trainableParams: r.trainableParams, isLeaf: r.kind == .module, isRecursive: r.repeated,
                                   leftover: 0, torchinfoMacs: macs, row: r, outputShape: r.outputShape))
        }
        // leftover = params − Σ over non-recursive descendants (leaf: params, else: its leftover).
        // Descendants are the following rows deeper than this one; computed back to front.
        for i in list.indices.reversed() where !list[i].isLeaf {
            var used = 0
            var j = i + 1
            while j < list.count, list[j].depth > list[i].depth {
                if !list[j].isRecursive { used += list[j].isLeaf ? list[j].params : list[j].leftover }
                j += 1
            }
            list[i].leftover = list[i].params - used
        }
        rows = list
    }

    // MARK: torchinfo's totals (ModelStatistics.__init__)

    public var totalParams: Int {
        rows.reduce(0) { s, r in r.isRecursive ? s : s + max(r.isLeaf ? r.params : r.leftover, 0) }
    }
    public var trainableParams: Int {
        rows.reduce(0) { s, r in r.isRecursive ? s : s + max(r.isLeaf ? r.trainableParams : r.leftover, 0) }
    }
    public var totalMultAdds: Int { rows.filter(\.isLeaf).reduce(0) { $0 + $1.torchinfoMacs } }
    /// Leaves with parameters: output bytes × 2 ("x2 for gradients").
    public var forwardBackwardBytes: Int {
        rows.filter { $0.isLeaf && $0.params > 0 }.reduce(0) { $0 + 2 * numel($1.outputShape) * Memory.floatBytes }
    }
    /// Parameters of leaves that ran (modules that never ran are missing here, as in torchinfo).
    public var paramBytes: Int {
        rows.filter { $0.isLeaf && !$0.isRecursive }.reduce(0) { $0 + $1.params * Memory.floatBytes }
    }
    /// sys.getsizeof(input.untyped_storage()): the data plus the 64-byte Python object.
    public var inputBytes: Int { numel(analysis.inputShape) * Memory.floatBytes + 64 }
}
