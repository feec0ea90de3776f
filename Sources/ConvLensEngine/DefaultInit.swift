import Foundation

import ConvLensGraph

/// `--init default`: the initialisation the model's constructor applies, as its zoo file's `init`
/// lines state it (the registry's transcribe torchvision 0.29's `_initialize_weights` / `__init__`
/// loops; see `ModelGraph.initialisation` for how rules resolve), drawn with ConvLens's own seeded
/// generator — the same distributions as torch, not torch's random numbers. Parameters are drawn
/// in state_dict order. Buffers: running_mean 0, running_var 1, num_batches_tracked 0 (torch's
/// reset_running_stats).
public enum DefaultInit {
    /// The state dict; a bad or missing `init` rule is an error naming its file and line.
    /// `keys`: only these entries (tests of large models sample a few tensors).
    public static func stateDict(_ graph: ModelGraph, seed: UInt64 = 0, keys: Set<String>? = nil) throws(EngineError) -> [String: Tensor] {
        let plan: [InitAssignment]
        do { plan = try graph.initialisation() } catch { throw EngineError(error.description) }
        var draws: [String: InitDraw] = [:]
        for a in plan { draws[a.entry.key] = a.draw }
        var rng = RandomSource(seed: seed)
        var out: [String: Tensor] = [:]
        for e in graph.stateDict() where keys?.contains(e.key) ?? true {
            let n = e.shape.reduce(1, *)
            let v: [Float]
            if e.isBuffer {
                v = [Float](repeating: e.localName == "running_var" ? 1 : 0, count: n)
            } else {
                v = sample(draws[e.key]!, count: n, rng: &rng)
            }
            out[e.key] = Tensor(shape: e.shape, values: v)
        }
        return out
    }

    static func sample(_ d: InitDraw, count n: Int, rng: inout RandomSource) -> [Float] {
        switch d {
        case .constant(let c): return [Float](repeating: Float(c), count: n)
        case .normal(let mean, let std): return (0..<n).map { _ in Float(mean + std * rng.normal()) }
        case .uniform(let lo, let hi): return (0..<n).map { _ in Float(rng.uniform(lo, hi)) }
        case .truncatedNormal(let mean, let std, let a, let b):
            return (0..<n).map { _ in Float(truncatedNormal(mean: mean, std: std, a: a, b: b, rng: &rng)) }
        }
    }

    /// N(mean, std²) restricted to [a, b] (bounds absolute, as torch's trunc_normal_). By rejection
    /// when at least a quarter of the draws land inside (torchvision's bounds ±2 at std ≤ 0.1 reject
    /// none in practice); otherwise by torch's own method, the inverse CDF of a uniform draw between
    /// Φ(α) and Φ(β), on the side of the mean where those stay representable.
    static func truncatedNormal(mean: Double, std: Double, a: Double, b: Double, rng: inout RandomSource) -> Double {
        guard std > 0 else { return min(max(mean, a), b) }
        let alpha = (a - mean) / std, beta = (b - mean) / std
        if cdf(beta) - cdf(alpha) >= 0.25 {
            while true {
                let x = mean + std * rng.normal()
                if x >= a && x <= b { return x }
            }
        }
        let flip = alpha > 0                              // sample the mirror image in the left tail
        let (lo, hi) = flip ? (-beta, -alpha) : (alpha, beta)
        let z = quantile(rng.uniform(cdf(lo), cdf(hi)))
        return min(max(mean + std * (flip ? -z : z), a), b)
    }

    /// Φ(x), the standard normal CDF.
    static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// Φ⁻¹(p): Acklam's rational approximation refined by one Halley step (about 1e-15 relative).
    static func quantile(_ p: Double) -> Double {
        guard p > 0 else { return -.infinity }
        guard p < 1 else { return .infinity }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - 0.02425 {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = cdf(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }
}
