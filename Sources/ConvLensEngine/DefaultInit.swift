import Foundation

import ConvLensGraph

/// `--init default`: the initialisation each model's constructor applies (torchvision 0.29's
/// `_initialize_weights` / `__init__` loops), with ConvLens's own seeded generator — the same
/// distributions as torch, not torch's random numbers.
///
/// - ResNet, VGG: Conv2d weight kaiming_normal_(mode="fan_out", nonlinearity="relu"):
///   N(0, sqrt(2 / (OC·KH·KW))), conv bias 0; BatchNorm weight 1, bias 0. ResNet's Linear keeps
///   torch's default; VGG's Linear is N(0, 0.01), bias 0.
/// - GoogLeNet: Conv2d and Linear weights trunc_normal_(std=0.01, a=−2, b=2); BatchNorm 1 / 0;
///   Linear biases keep torch's default.
/// - Inception3: Conv2d and Linear weights trunc_normal_(std=m.stddev or 0.1, a=−2, b=2), where only
///   `AuxLogits.fc` has `stddev = 0.001` (torchvision also sets `AuxLogits.conv1.stddev = 0.01`,
///   but on the BasicConv2d wrapper, which its loop skips: the inner Conv2d gets 0.1, as here).
/// - AlexNet, LeNet5 and any other model: torch's layer defaults, i.e. Conv2d/Linear weight
///   kaiming_uniform_(a=√5) = U(−1/√fan_in, 1/√fan_in), bias U(−1/√fan_in, 1/√fan_in);
///   BatchNorm 1 / 0.
/// - A zoo file's `train init = "normal(0, S)"` (ConvNet) overrides: weights N(0, S), biases 0.
/// Buffers: running_mean 0, running_var 1, num_batches_tracked 0.
public enum DefaultInit {
    public static func stateDict(_ graph: ModelGraph, seed: UInt64 = 0) -> [String: Tensor] {
        var rng = RandomSource(seed: seed)
        var out: [String: Tensor] = [:]
        let override = graph.source.trainValue("init").flatMap { $0.stringValue }.flatMap(parseNormal)
        for e in graph.stateDict() {
            let n = e.shape.reduce(1, *)
            guard let layer = graph.modules[e.module].layer else { continue }
            var v = [Double](repeating: 0, count: n)
            switch e.localName {
            case "running_var": v = v.map { _ in 1 }
            case "running_mean", "num_batches_tracked": break
            default:
                v = value(e, layer: layer, graph: graph, override: override, n: n, rng: &rng)
            }
            out[e.key] = Tensor(shape: e.shape, values: v.map { Float($0) })
        }
        return out
    }

    static func value(_ e: ModelGraph.StateEntry, layer: Layer, graph: ModelGraph, override: Double?,
                      n: Int, rng: inout RandomSource) -> [Double] {
        let isWeight = e.localName == "weight"
        if case .batchNorm2d = layer { return [Double](repeating: isWeight ? 1 : 0, count: n) }
        // fan_in of the owning conv/linear: weight shape [OC, IC/g, KH, KW] or [out, in].
        let wshape = layer.spec.parameters.first { $0.name == "weight" }?.shape ?? [1, 1]
        let fanIn = wshape.dropFirst().reduce(1, *)
        let fanOut = wshape[0] * wshape.dropFirst(2).reduce(1, *)
        let torchDefault = 1 / Double(max(fanIn, 1)).squareRoot()
        let isConv: Bool = { if case .conv2d = layer { return true } else { return false } }()
        if let std = override { return isWeight ? (0..<n).map { _ in std * rng.normal() } : [Double](repeating: 0, count: n) }
        switch graph.className {
        case "ResNet", "VGG":
            if isConv { return isWeight ? (0..<n).map { _ in (2 / Double(fanOut)).squareRoot() * rng.normal() } : [Double](repeating: 0, count: n) }
            if graph.className == "VGG" { return isWeight ? (0..<n).map { _ in 0.01 * rng.normal() } : [Double](repeating: 0, count: n) }
        case "GoogLeNet":
            if isWeight { return truncNormal(n, std: 0.01, rng: &rng) }
        case "Inception3":
            if isWeight { return truncNormal(n, std: graph.modules[e.module].path == "AuxLogits.fc" ? 0.001 : 0.1, rng: &rng) }
        default: break
        }
        return (0..<n).map { _ in rng.uniform(-torchDefault, torchDefault) }
    }

    /// N(0, std) truncated to [−2, 2] by rejection (torch's trunc_normal_ bounds are absolute).
    static func truncNormal(_ n: Int, std: Double, rng: inout RandomSource) -> [Double] {
        (0..<n).map { _ in
            while true { let x = std * rng.normal(); if x >= -2 && x <= 2 { return x } }
        }
    }

    /// "normal(0, 0.01)" → 0.01.
    static func parseNormal(_ s: String) -> Double? {
        guard s.hasPrefix("normal("), s.hasSuffix(")") else { return nil }
        let parts = s.dropFirst(7).dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, Double(parts[0]) == 0 else { return nil }
        return Double(parts[1])
    }
}
