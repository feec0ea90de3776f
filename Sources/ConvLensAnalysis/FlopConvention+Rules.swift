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

    /// ConvLens FLOPs: a multiply-accumulate is 2 FLOPs; every other arithmetic operation 1.
    static func convlensFlops(_ n: GraphNode, mode: AnalysisMode) -> Int {
        let out = numel(n.outputShape)
        let macs = n.layer.spec.macs(inputs: n.inputShapes, output: n.outputShape)
        switch n.layer {
        case .conv2d(let c): return 2 * macs + (c.bias ? out : 0)                // + one bias add per output
        case .linear(let l): return 2 * macs + (l.bias ? out : 0)
        case .batchNorm2d(let b):
            // eval: statistics are constants, y = a·x + b per channel: 2 per element.
            // train: mean (1 add), variance (sub, square, add: 3), normalise (1 mul), affine (2) = 7; 5 without affine.
            return mode == .eval ? 2 * out : (b.affine ? 7 : 5) * out
        case .relu: return out                                                     // one max(x, 0)
        case .maxPool2d(let p): return out * (p.kernelSize[0] * p.kernelSize[1] - 1)  // k·k − 1 comparisons
        case .avgPool2d(let p): return out * p.kernelSize[0] * p.kernelSize[1]     // k·k − 1 adds + 1 divide
        case .adaptiveAvgPool2d(let p):
            // Each output reads its bin (|bin| − 1 adds + 1 divide = |bin| ops): N·C·Σh_i·Σw_j.
            let x = n.inputShapes[0]
            let sh = AdaptiveAvgPool2d.bins(input: x[2], output: p.outputSize[0]).reduce(0) { $0 + $1.1 - $1.0 }
            let sw = AdaptiveAvgPool2d.bins(input: x[3], output: p.outputSize[1]).reduce(0) { $0 + $1.1 - $1.0 }
            return x[0] * x[1] * sh * sw
        case .add: return (n.inputs.count - 1) * out                               // k inputs: k − 1 adds
        case .dropout: return mode == .train ? out : 0                             // train: one mask multiply
        case .flatten, .identity, .concat: return 0                                // data movement only
        }
    }

    /// torchinfo 1.8 (layer_info.py, calculate_macs), leaf modules only: for each parameter named
    /// weight or bias, Conv*: numel(param) × N × OH × OW; anything else: numel(param) × N.
    /// Functional calls are invisible to it.
    static func torchinfoMultAdds(_ n: GraphNode) -> Int {
        guard n.kind == .module else { return 0 }
        let y = n.outputShape
        let perParam = n.layer.className.contains("Conv") ? y[0] * y.dropFirst(2).reduce(1, *) : y[0]
        return n.layer.spec.parameters.filter { $0.name == "weight" || $0.name == "bias" }
            .reduce(0) { $0 + $1.count * perParam }
    }

    /// fvcore (jit_handles.py, default handles) on the traced aten ops; module or functional alike:
    /// conv = N·prod(w)·OH·OW and linear = numel(x)·out (MACs, bias ignored); batch_norm eval =
    /// numel·(2 if affine else 1), train = numel·(5 if affine else 4); adaptive_avg_pool2d = numel(input).
    /// relu, max/avg pooling, cat, add, dropout, flatten are skipped ("unsupported ops").
    static func fvcoreFlops(_ n: GraphNode, mode: AnalysisMode) -> Int {
        switch n.layer {
        case .conv2d, .linear: return n.layer.spec.macs(inputs: n.inputShapes, output: n.outputShape)
        case .batchNorm2d(let b):
            let x = numel(n.inputShapes[0])
            return mode == .eval ? x * (b.affine ? 2 : 1) : x * (b.affine ? 5 : 4)
        case .adaptiveAvgPool2d: return numel(n.inputShapes[0])
        default: return 0
        }
    }

    /// thop (profile.py register_hooks + vision/basic_hooks.py), leaf modules only:
    /// Conv2d = in_c·numel(y)·kh·kw / groups (no bias); Linear = in_features·numel(y) (no bias);
    /// BatchNorm2d = 2·numel(x), doubled when affine; AdaptiveAvgPool2d = (prod(in/out spatial, as
    /// floats) + 1)·numel(y); AvgPool2d = numel(y); ReLU, MaxPool2d, Dropout: zero. Functional calls are not seen.
    static func thopOps(_ n: GraphNode) -> Double {
        guard n.kind == .module else { return 0 }
        switch n.layer {
        case .conv2d, .linear: return Double(n.layer.spec.macs(inputs: n.inputShapes, output: n.outputShape))
        case .batchNorm2d(let b): return Double(2 * numel(n.inputShapes[0]) * (b.affine ? 2 : 1))
        case .adaptiveAvgPool2d:
            let x = n.inputShapes[0], y = n.outputShape
            let kernel = (Double(x[2]) / Double(y[2])) * (Double(x[3]) / Double(y[3]))
            return (kernel + 1) * Double(numel(y))
        case .avgPool2d: return Double(numel(n.outputShape))
        default: return 0
        }
    }

    /// ptflops (pytorch backend: pytorch_ops.py, pytorch_engine.py). Module hooks:
    /// Conv2d = MACs + out_channels·N·OH·OW for the bias; Linear = numel(x)·out + out (bias, not × N);
    /// BatchNorm2d = numel(x)·(2 if affine); ReLU = numel(y); pooling = numel(x); Dropout = 0.
    /// It also patches torch.nn.functional (relu, pools, not linear or dropout): each patched call
    /// adds numel(x) — including the call a module's own forward makes, so ReLU and pooling
    /// modules count twice. Module counts are divided by the batch size, functional ones are not.
    /// It calls model.eval() itself: training-only nodes never run under it.
    static func ptflopsMacs(_ n: GraphNode) -> Double {
        guard !n.trainOnly else { return 0 }
        let x = n.inputShapes.first.map(numel) ?? 0
        let batch = Double(n.inputShapes.first?.first ?? 1)
        var functional = 0
        switch n.layer {
        case .relu, .maxPool2d, .avgPool2d, .adaptiveAvgPool2d: functional = x   // the patched F.* call
        default: break
        }
        guard n.kind == .module else { return Double(functional) }
        var module = 0
        switch n.layer {
        case .conv2d(let c): module = n.layer.spec.macs(inputs: n.inputShapes, output: n.outputShape) + (c.bias ? numel(n.outputShape) : 0)
        case .linear(let l): module = x * l.outFeatures + (l.bias ? l.outFeatures : 0)
        case .batchNorm2d(let b): module = x * (b.affine ? 2 : 1)
        case .relu: module = numel(n.outputShape)
        case .maxPool2d, .avgPool2d, .adaptiveAvgPool2d: module = x
        default: module = 0
        }
        return Double(module) / batch + Double(functional)
    }
}
