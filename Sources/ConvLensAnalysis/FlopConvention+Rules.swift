import ConvLensGraph

func numel(_ shape: [Int]) -> Int { shape.reduce(1, *) }

extension FlopConvention {
    /// What this convention counts for one executed node, batch included. Each tool's rule is
    /// cited from its source; analysis-conventions.md tabulates them per layer kind.
    /// ptflops divides its module hooks (not its functional patches) by the batch size, so its
    /// per-node counts can be fractional for batch > 1: hence Double.
    public func count(_ node: GraphNode, mode: AnalysisMode) -> Double {
        switch self {
        case .convlens: return Double(FlopConvention.convlensFlops(node, mode: mode))
        case .torchinfo: return Double(FlopConvention.torchinfoMultAdds(node))
        case .fvcore: return Double(FlopConvention.fvcoreFlops(node, mode: mode))
        case .thop: return FlopConvention.thopOps(node)
        case .ptflops: return FlopConvention.ptflopsMacs(node)
        }
    }

    static func convlensFlops(_ n: GraphNode, mode: AnalysisMode) -> Int {
        n.spec.operations(n.call(training: mode == .train)).flops
    }

    /// torchinfo 1.8 (layer_info.py, calculate_macs), leaf modules only: for each parameter named
    /// weight or bias, Conv*: numel(param) × N × OH × OW; anything else: numel(param) × N.
    /// Functional calls are invisible to it.
    static func torchinfoMultAdds(_ n: GraphNode) -> Int {
        guard n.kind == .module else { return 0 }
        let y = n.outputShape
        let perParam = n.layer.className.contains("Conv") ? y[0] * y.dropFirst(2).reduce(1, *) : y[0]
        return n.spec.parameters.filter { $0.name == "weight" || $0.name == "bias" }
            .reduce(0) { $0 + $1.count * perParam }
    }

    /// fvcore (jit_handles.py, default handles) on the traced aten ops, module or functional alike;
    /// each kind's rule is in its `operations`.
    static func fvcoreFlops(_ n: GraphNode, mode: AnalysisMode) -> Int {
        n.spec.operations(n.call(training: mode == .train)).fvcore
    }

    /// thop (profile.py register_hooks + vision/basic_hooks.py): leaf modules only, each kind's
    /// hook in its `operations`. Functional calls are not seen.
    static func thopOps(_ n: GraphNode) -> Double {
        guard n.kind == .module else { return 0 }
        return n.spec.operations(n.call(training: false)).thop
    }

    /// ptflops (pytorch backend): module hooks divided by the batch size, plus the patched
    /// torch.nn.functional calls (not divided) — including the call a module's own forward makes,
    /// so ReLU and pooling modules count twice. It calls model.eval() itself: training-only nodes
    /// never run under it.
    static func ptflopsMacs(_ n: GraphNode) -> Double {
        guard !n.trainOnly else { return 0 }
        let ops = n.spec.operations(n.call(training: false))
        let batch = Double(n.inputShapes.first?.first ?? 1)
        guard n.kind == .module else { return ops.ptflopsFunctional }
        return ops.ptflopsModule / batch + ops.ptflopsFunctional
    }
}
