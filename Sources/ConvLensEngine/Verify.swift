import ConvLensGraph
import Foundation

/// `convlens verify`: runs a model forward and backward on random data and checks
/// (a) every produced tensor has the shape the analyzer gave its node,
/// (b) the MACs the conv and linear kernels performed equal Σ layer.spec.macs over executed nodes,
/// (c) central differences agree with the backward pass:
///     - per layer kind (local): for up to `nodesPerKind` nodes of each kind, L = Σ y·R for a random
///       R, on random inputs of the node's shapes; sampled input and parameter coordinates;
///     - whole model (directional): L = Σ logits·R (+ aux heads in train mode) along a random
///       direction over the input, and over all parameters of each parameterised layer kind.
/// Central differences are taken in float32 with the sums in Double, Richardson-extrapolated (see
/// `richardson`). Local: step h = 1e-1 (1e-2 for ReLU and max pooling) on O(1) random data kept away from ReLU/max-pool kinks; a
/// coordinate passes when |num − ana| ≤ 1e-2·max(|num|, |ana|, 1e-2·rms of the tensor's analytic
/// gradient — the float32 resolution floor). Whole model: the ReLU masks and max-pool choices of
/// the reference point are replayed (no kink is crossed inside ±h) and dropout masks reseeded, so
/// in eval mode L is exactly affine along each direction and the step is large (1e-1, relative):
/// tol 2e-2, typical errors 1e-5…5e-3. In train mode batch statistics make L curved (strongly so
/// at the deep end, where a channel has few values), so the step starts small (1e-3, then down a ladder
/// of steps until two estimates agree: `ladder`; 1e-1 for models without batch norm, affine here
/// too) and the tolerance
/// 1e-1: still far below the O(1) error of a missing branch or an unaccumulated gradient. A model
/// with a curved kind (SiLU, GELU, LayerNorm, squeeze-excitation's product: `GradientProbe`) is
/// curved in eval mode too and is checked there like train mode. A difference within the float32
/// noise floor of L (probed at a tiny step, shown in the row when it matters) passes. The exact
/// check is the comparison with PyTorch in the test suite (1e-3).
/// Both engines are checked: `direct` (every node its own kernel) and `fast` (what run/train use).
/// Weights: hash_init with He-scaled conv/linear weights (see `weights`); every tensor non-zero;
/// batch norms' running statistics calibrated to the average batch statistics of eight train-mode passes.
public enum Verify {
    public struct Row: Sendable {
        public var check: String
        /// Which engine ran it: `direct` (every node its own kernel, no fusion, no Winograd) or
        /// `fast` (the engine `run` and `train` use: fused ReLU/pool, Winograd convolutions).
        public var engine: String
        public var mode: String
        public var detail: String
        public var passed: Bool
        /// False when central differences could not settle on a value (L chaotic at this input, see
        /// `ladder`): the row is shown as `n/a`, neither passed nor failed.
        public var measurable = true
    }

    public struct Report: Sendable {
        public var model: String
        public var inputShape: [Int]
        public var rows: [Row]
        /// Every measurable check passed.
        public var passed: Bool { rows.allSatisfy { $0.passed || !$0.measurable } }
        public var unmeasurable: Int { rows.filter { !$0.measurable }.count }

        /// The table `convlens verify` prints.
        public var table: String {
            let w0 = max(5, rows.map(\.check.count).max() ?? 0), w1 = 5, w2 = 6
            func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
            var lines = ["\(model), input \(inputShape.map(String.init).joined(separator: "×"))",
                         "\(pad("engine", w2))  \(pad("check", w0))  \(pad("mode", w1))  result  detail"]
            for r in rows { lines.append("\(pad(r.engine, w2))  \(pad(r.check, w0))  \(pad(r.mode, w1))  \(!r.measurable ? "n/a   " : r.passed ? "ok    " : "FAILED")  \(r.detail)") }
            let failed = rows.filter { !$0.passed && $0.measurable }.count, measured = rows.count - unmeasurable
            var last = failed == 0 ? "all \(measured) checks passed" : "\(failed) of \(measured) checks FAILED"
            if unmeasurable > 0 {
                last += "; \(unmeasurable) not measurable: central differences do not settle, the loss is chaotic at this input"
                    + " (train-mode batch norm over a few values per channel); a larger input or batch makes them measurable"
            }
            lines.append(last)
            return lines.joined(separator: "\n")
        }
    }

    /// One whole-model directional check: the central differences (`ladder`), the backward pass's
    /// ⟨∇L, v⟩, and whether the ladder settled.
    struct Directional {
        var name: String
        /// The ladder's estimates, each with its step and its float32 noise floor.
        var estimates: [(value: Double, step: Float, floor: Double)]
        var analytic: Double
        var settled: Bool
    }

    /// Train-mode passes whose average batch statistics become the running statistics.
    static let calibrationPasses = 8

    /// The engines `run` checks: the direct kernels, then the fast engine users run.
    public static let engines: [(name: String, fuse: Bool)] = [("direct", false), ("fast", true)]

    public static func run(graph: ModelGraph, seed: UInt64 = 1, nodesPerKind: Int = 2, samples: Int = 4, step: Float = 1e-3,
                           engines: [(name: String, fuse: Bool)] = Verify.engines) throws -> Report {
        var rows: [Row] = []
        for (name, fuse) in engines {
            let engine = try Engine(graph: graph, weights: weights(graph), dropoutSeed: seed, fuse: fuse)
            rows += try checks(engine, name, seed: seed, nodesPerKind: nodesPerKind, samples: samples, step: step)
        }
        return Report(model: graph.name, inputShape: graph.inputShape, rows: rows)
    }

    /// Every check on one engine, the same random data for each engine (from `seed`).
    static func checks(_ engine: Engine, _ engineName: String, seed: UInt64, nodesPerKind: Int, samples: Int, step: Float) throws -> [Row] {
        let graph = engine.graph
        var rows: [Row] = []
        func Row(check: String, mode: String, detail: String, passed: Bool) -> Verify.Row {
            Verify.Row(check: check, engine: engineName, mode: mode, detail: detail, passed: passed)
        }
        var rng = RandomSource(seed: seed &+ 17)
        let input = randomTensor(graph.inputShape, &rng)
        // Random running statistics leave eval mode unnormalised: activations of deep networks
        // then grow layer by layer until central differences mean nothing. Train-mode passes set
        // them to the average batch statistics of this input and seven more random batches, as a
        // trained model's are averages over many batches. (One batch is not enough: at a small
        // input a late channel has a handful of values, some nearly equal, and 1/√(var + eps) of
        // such a variance, compounded over forty layers, made EfficientNetV2's eval-mode gradient
        // 1e25 — chaotic, beyond any central difference.)
        if graph.trainingProblem == nil {
            engine.calibratesRunningStatistics = true
            defer { engine.calibratesRunningStatistics = false; engine.calibrationPass = 1; engine.resetDropout() }
            var calibrationRng = RandomSource(seed: seed &+ 29)
            for pass in 1...Self.calibrationPasses {
                engine.calibrationPass = pass
                _ = try engine.forward(pass == 1 ? input : randomTensor(graph.inputShape, &calibrationRng), training: true, retainForBackward: false)
            }
        }
        var modes: [Bool] = [false]
        if graph.trainingProblem == nil { modes.append(true) } else {
            rows.append(Row(check: "train mode", mode: "train", detail: "skipped: \(graph.trainingProblem!.description)", passed: true))
        }
        // Without batch norm, train mode (dropout masks replayed) is as affine as eval mode. A curved
        // kind anywhere (SiLU, LayerNorm, squeeze-excitation's product) makes eval mode curved too:
        // the small step there too.
        let hasBatchNorm = graph.nodes.contains { if case .batchNorm2d = $0.layer { return true } else { return false } }
        let curved = graph.nodes.contains { if case .kernel(let k) = $0.layer.kernel { return !k.probe.piecewiseAffine } else { return false } }
        for training in modes {
            let m = training ? "train" : "eval"
            let nodes = graph.nodes(training: training)
            // (a) shapes: forward throws on the first mismatch, naming the node.
            do {
                engine.resetDropout()
                _ = try engine.forward(input, training: training)
                rows.append(Row(check: "shapes", mode: m, detail: "\(nodes.count) tensors match the analyzer's output shapes", passed: true))
            } catch {
                rows.append(Row(check: "shapes", mode: m, detail: "\(error)", passed: false))
                continue
            }
            // (b) MACs.
            let expected = nodes.reduce(0) { $0 + $1.spec.macs($1.call(training: training)) }
            rows.append(Row(check: "MACs", mode: m, detail: "kernels \(engine.forwardMACs) vs analyzer \(expected)", passed: engine.forwardMACs == expected))
            // (c) gradients, layer by layer.
            var byKind: [String: [GraphNode]] = [:]
            for n in nodes { byKind[kindName(n.layer), default: []].append(n) }
            for kind in byKind.keys.sorted() {
                let picked = pick(byKind[kind]!, nodesPerKind)
                var worst = 0.0, count = 0
                for n in picked {
                    let (e, c) = engine.localGradientCheck(n, training: training, samples: samples, rng: &rng)
                    worst = max(worst, e); count += c
                }
                rows.append(Row(check: "grad \(kind) (local)", mode: m,
                                detail: "\(picked.count) node(s), \(count) coordinates, max rel err \(fmt(worst)) (tol 1e-2)",
                                passed: worst <= 1e-2 && count > 0))
            }
            // (c) gradients through the whole model.
            // Affine along the direction: a large step and a tight tolerance; curved: small and loose.
            let affine = !(training && hasBatchNorm) && !curved
            let tol = affine && !training ? 2e-2 : 1e-1
            // A difference within the noise floor of L's float32 rounding (see directionalChecks) passes.
            // Train-mode batch norm over a couple of values per channel is nearly a sign function:
            // L is then flat almost everywhere and steep near a tie, and no step measures it.
            let fewValues: (name: String, count: Int)? = training ? nodes.lazy.compactMap { n in
                guard case .batchNorm2d = n.layer.kernel, let s = n.inputShapes.first, s.count == 4, s[0] * s[2] * s[3] <= 4 else { return nil }
                return (n.name, s[0] * s[2] * s[3])
            }.first : nil
            rows += try engine.directionalChecks(input: input, training: training, step: affine ? 1e-1 : step, levels: affine ? 1 : 5, rng: &rng).map { c in
                // The ladder's estimate closest to the analytic value, judged with its step's noise floor.
                func verdict(_ e: (value: Double, step: Float, floor: Double)) -> (passed: Bool, error: Double) {
                    let scale = max(abs(e.value), abs(c.analytic), 1e-12)
                    let err = abs(e.value - c.analytic) / scale
                    return (err.isNaN ? false : err <= tol || max(0, abs(e.value - c.analytic) - e.floor) / scale <= tol, err.isNaN ? .infinity : err)
                }
                let best = c.estimates.min { verdict($0).error < verdict($1).error }!
                let (passed, error) = verdict(best)
                let scale = max(abs(best.value), abs(c.analytic), 1e-12)
                let noted = best.floor > 1e-2 * scale ? ", noise floor \(fmt(best.floor))" : ""
                let stepNote = c.estimates.count > 1 ? " at step \(fmt(Double(best.step)))" : ""
                var row = Row(check: c.name, mode: m,
                              detail: "num \(fmt(best.value))\(stepNote) vs ana \(fmt(c.analytic)), rel err \(fmt(error)) (tol \(tol == 2e-2 ? "2e-2" : "1e-1")\(noted))"
                                  + (passed || c.settled ? "" : "; estimates at smaller steps do not settle")
                                  + (passed || fewValues == nil ? "" : "; \(fewValues!.name) normalises \(fewValues!.count) values per channel"),
                              passed: passed)
                row.measurable = passed || (c.settled && fewValues == nil)
                return row
            }
        }
        return rows
    }

    /// Richardson-extrapolated central difference of f at 0: D(h) = (f(h) − f(−h))/2h has error
    /// c·h² + O(h⁴), so (4·D(h/2) − D(h))/3 cancels the h² term (the curvature of batch norm over
    /// few values, e.g. Inception's 1×1 aux head in train mode, would otherwise dominate).
    static func richardson(_ h: Float, _ f: (Float) throws -> Double) rethrows -> Double {
        let d1 = (try f(h) - f(-h)) / (2 * Double(h))
        let d2 = (try f(h / 2) - f(-h / 2)) / Double(h)
        return (4 * d2 - d1) / 3
    }

    /// Central differences of a curved L at the steps h, h/4, h/16, … (Richardson at each): the
    /// truncation error falls with the step until float32 rounding, ∝ 1/step, takes over. Deep
    /// batch-norm networks in train mode at batch 2 (a channel of the last stages has 8 values),
    /// and chaotic ones such as RegNet's or ResNeXt's at random weights, need steps of 1e-4…1e-5
    /// where an O(1) network is fine at 1e-3; where rounding takes over depends on the model. The
    /// ladder stops early once two neighbouring estimates agree to 1e-3. It returns every estimate
    /// with its step (a check passes when one of them agrees with the backward pass: a wrong
    /// gradient — a missing branch, an unaccumulated sum, a wrong factor — is far from all of
    /// them), and whether any two neighbours agree to 10% (`settled`; when none do, L is chaotic at
    /// every step float32 can resolve and the estimates mean nothing).
    static func ladder(_ h: Float, levels: Int, _ f: (Float) throws -> Double) rethrows -> (estimates: [(value: Double, step: Float)], settled: Bool) {
        var estimates = [(value: try richardson(h, f), step: h)]
        var settled = levels <= 1
        var step = h
        for _ in 1..<max(levels, 1) {
            step /= 4
            let e = try richardson(step, f), previous = estimates.last!.value
            estimates.append((e, step))
            let gap = abs(e - previous)
            if gap <= 0.1 * max(abs(e), abs(previous)) { settled = true }
            if gap <= 1e-3 * max(abs(e), abs(previous)) { break }
        }
        return (estimates, settled)
    }

    /// hash_init with conv and linear weights scaled by √6: hash weights have variance
    /// 1/(3·fan_in); ×√6 gives He's 2/fan_in, which keeps the signal's scale through ReLU layers,
    /// so deep models without batch norm (VGG16) neither vanish nor explode on random data.
    static func weights(_ graph: ModelGraph) -> [String: Tensor] {
        let w = HashInit.stateDict(graph)
        for e in graph.stateDict() where e.shape.count >= 2 {
            let t = w[e.key]!
            for i in 0..<t.count { t[i] *= Float(6.0.squareRoot()) }
        }
        return w
    }

    static func pick(_ nodes: [GraphNode], _ k: Int) -> [GraphNode] {
        guard nodes.count > k, k >= 2 else { return Array(nodes.prefix(k)) }
        return (0..<k).map { nodes[$0 * (nodes.count - 1) / (k - 1)] }   // spread: first … last
    }

    static func kindName(_ l: Layer) -> String { l.className == "cat" ? "Concat" : (l.className == "add" ? "Add" : l.className) }

    static func fmt(_ v: Double) -> String { String(format: "%.2e", v) }

    static func randomTensor(_ shape: [Int], _ rng: inout RandomSource) -> Tensor {
        let t = Tensor(zeros: shape)
        for i in 0..<t.count { t[i] = Float(rng.normal()) }
        return t
    }
}
