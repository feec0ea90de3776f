import ConvLensGraph
import Foundation

// LayerNorm, LayerNorm2d and Softmax: a reduction along one axis of a tensor seen as
// [outer, D, inner] (D the reduced size; inner = 1 when it is the last axis). Legend: O outer,
// D reduced, I inner, E elements.

/// A tensor's shape seen as [outer, D, inner] around axis `d` (negative counts from the end).
struct AxisLayout {
    var outer, d, inner: Int
    init(_ shape: [Int], axis: Int) {
        let a = axis < 0 ? axis + shape.count : axis
        outer = shape[..<a].reduce(1, *); d = shape[a]; inner = shape[(a + 1)...].reduce(1, *)
    }
    init(outer: Int, d: Int, inner: Int) { self.outer = outer; self.d = d; self.inner = inner }
}

/// The mean and 1/√(biased variance + eps) of `count` contiguous values: two passes (mean, then
/// variance) in Double.
func meanInvstd(_ x: UnsafePointer<Float>, count: Int, eps: Double) -> (mean: Float, invstd: Float) {
    var m = 0.0
    for j in 0..<count { m += Double(x[j]) }
    m /= Double(count)
    var v = 0.0
    for j in 0..<count { let c = Double(x[j]) - m; v += c * c }
    return (Float(m), Float(1 / (v / Double(count) + eps).squareRoot()))
}

/// y = (x − mean) · invstd · weight + bias along D, with mean and invstd = 1/√(biased var + eps)
/// per (outer, inner) written to `mean`, `invstd` [O, I]. Two passes (mean, then variance) in
/// Double. `weight`/`bias` [D] are optional (elementwise_affine=False, bias=False).
func layerNormForward(_ y: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ invstd: UnsafeMutablePointer<Float>,
                      _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>?, _ bias: UnsafePointer<Float>?,
                      _ s: AxisLayout, eps: Double, outers: Range<Int>) {
    let (d, inner) = (s.d, s.inner)
    if inner == 1 {
        for o in outers {
            let xr = x + o * d, yr = y + o * d
            let (mf, invf) = meanInvstd(xr, count: d, eps: eps)
            mean[o] = mf; invstd[o] = invf
            for j in 0..<d {
                var v = (xr[j] - mf) * invf
                if let weight { v *= weight[j] }
                if let bias { v += bias[j] }
                yr[j] = v
            }
        }
        return
    }
    // Channels-first (LayerNorm2d): accumulate per inner position over D, inner positions contiguous.
    var acc = [Double](repeating: 0, count: inner)
    for o in outers {
        let xo = x + o * d * inner, yo = y + o * d * inner
        let mo = mean + o * inner, io = invstd + o * inner
        acc.withUnsafeMutableBufferPointer { a in
            for i in 0..<inner { a[i] = 0 }
            for j in 0..<d { let xr = xo + j * inner; for i in 0..<inner { a[i] += Double(xr[i]) } }
            for i in 0..<inner { mo[i] = Float(a[i] / Double(d)); a[i] = 0 }
            for j in 0..<d {
                let xr = xo + j * inner
                for i in 0..<inner { let c = Double(xr[i]) - Double(mo[i]); a[i] += c * c }
            }
            for i in 0..<inner { io[i] = Float(1 / (a[i] / Double(d) + eps).squareRoot()) }
        }
        for j in 0..<d {
            let xr = xo + j * inner, yr = yo + j * inner
            let (w, b) = (weight?[j] ?? 1, bias?[j] ?? 0)
            for i in 0..<inner { yr[i] = (xr[i] - mo[i]) * io[i] * w + b }
        }
    }
}

/// dx += invstd · (g − mean_D(g) − x̂ · mean_D(g · x̂)) with g = dy · weight and x̂ = (x − mean) · invstd,
/// for the outer rows `outers`.
func layerNormBackwardInput(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                            _ weight: UnsafePointer<Float>?, _ mean: UnsafePointer<Float>, _ invstd: UnsafePointer<Float>,
                            _ s: AxisLayout, outers: Range<Int>) {
    let (d, inner) = (s.d, s.inner)
    var sumG = [Double](repeating: 0, count: inner), sumGX = [Double](repeating: 0, count: inner)
    for o in outers {
        let base = o * d * inner
        let mo = mean + o * inner, io = invstd + o * inner
        sumG.withUnsafeMutableBufferPointer { sg in
            sumGX.withUnsafeMutableBufferPointer { sgx in
                for i in 0..<inner { sg[i] = 0; sgx[i] = 0 }
                for j in 0..<d {
                    let w = weight?[j] ?? 1
                    let at = base + j * inner
                    for i in 0..<inner {
                        let g = Double(dy[at + i] * w), xh = Double((x[at + i] - mo[i]) * io[i])
                        sg[i] += g; sgx[i] += g * xh
                    }
                }
                for i in 0..<inner { sg[i] /= Double(d); sgx[i] /= Double(d) }
                for j in 0..<d {
                    let w = weight?[j] ?? 1
                    let at = base + j * inner
                    for i in 0..<inner {
                        let g = dy[at + i] * w, xh = (x[at + i] - mo[i]) * io[i]
                        dx[at + i] += io[i] * (g - Float(sg[i]) - xh * Float(sgx[i]))
                    }
                }
            }
        }
    }
}

/// dweight[D] += Σ dy · x̂, dbias[D] += Σ dy over outer and inner.
func layerNormBackwardAffine(_ dweight: UnsafeMutablePointer<Float>?, _ dbias: UnsafeMutablePointer<Float>?, _ dy: UnsafePointer<Float>,
                             _ x: UnsafePointer<Float>, _ mean: UnsafePointer<Float>, _ invstd: UnsafePointer<Float>, _ s: AxisLayout) {
    let (d, inner) = (s.d, s.inner)
    var gw = [Double](repeating: 0, count: d), gb = [Double](repeating: 0, count: d)
    for o in 0..<s.outer {
        let base = o * d * inner, mo = mean + o * inner, io = invstd + o * inner
        for j in 0..<d {
            let at = base + j * inner
            var sw: Float = 0, sb: Float = 0
            for i in 0..<inner { let g = dy[at + i]; sw += g * (x[at + i] - mo[i]) * io[i]; sb += g }
            gw[j] += Double(sw); gb[j] += Double(sb)
        }
    }
    if let dweight { for j in 0..<d { dweight[j] += Float(gw[j]) } }
    if let dbias { for j in 0..<d { dbias[j] += Float(gb[j]) } }
}

extension LayerNorm: KindKernel {
    var keeps: KernelKeeps { .inputs }
    func parameterKeys(_ call: KernelCall) -> [String] { ["weight", "bias"].map(call.key).filter { call.engine.gradients[$0] != nil } }
    var probe: GradientProbe { .smooth }

    /// The reduced axes as [outer, D, inner]: the trailing normalized_shape dims (inner 1), or
    /// LayerNorm2d's channels of NCHW (inner H·W).
    func layout(_ shape: [Int]) -> AxisLayout {
        if channelsFirst { return AxisLayout(shape, axis: 1) }
        let d = normalizedShape.reduce(1, *)
        return AxisLayout(outer: shape.reduce(1, *) / d, d: d, inner: 1)
    }

    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0], s = layout(x.shape)
        let y = Tensor(uninitialized: x.shape), mean = Tensor(uninitialized: [s.outer * s.inner]), invstd = Tensor(uninitialized: [s.outer * s.inner])
        let (yp, mp, ip, xp, wp, bp, eps) = (y.data, mean.data, invstd.data, x.data, call.parameter("weight")?.data, call.parameter("bias")?.data, epsValue)
        parallelChunks(s.outer, work: 4 * x.count) { r in layerNormForward(yp, mp, ip, xp, wp, bp, s, eps: eps, outers: r) }
        call.save([mean, invstd])
        return y
    }

    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        let x = try call.input(xs), st = try call.savedTensors(2), s = layout(x.shape)
        let (dyp, xp, wp, mp, ip) = (dy.data, x.data, call.parameter("weight")?.data, st[0].data, st[1].data)
        layerNormBackwardAffine(call.gradient("weight")?.data, call.gradient("bias")?.data, dyp, xp, mp, ip, s)
        guard let dx = dxs[0]?.data else { return }
        parallelChunks(s.outer, work: 4 * x.count) { r in layerNormBackwardInput(dx, dyp, xp, wp, mp, ip, s, outers: r) }
    }
}

/// y = softmax(x) along D: e^(x − max) / Σ e^(x − max), for the outer rows `outers`.
func softmaxForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ s: AxisLayout, outers: Range<Int>) {
    let (d, inner) = (s.d, s.inner)
    for o in outers {
        for i in 0..<inner {
            let xr = x + o * d * inner + i, yr = y + o * d * inner + i
            var m = -Float.infinity, nan = false
            for j in 0..<d { let v = xr[j * inner]; if v > m { m = v }; if v.isNaN { nan = true } }
            if nan { for j in 0..<d { yr[j * inner] = .nan }; continue }
            var sum = 0.0
            for j in 0..<d { let e = Foundation.exp(xr[j * inner] - m); yr[j * inner] = e; sum += Double(e) }
            let inv = Float(1 / sum)
            for j in 0..<d { yr[j * inner] *= inv }
        }
    }
}

/// dx += y · (dy − Σ_D dy · y).
func softmaxBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ s: AxisLayout, outers: Range<Int>) {
    let (d, inner) = (s.d, s.inner)
    for o in outers {
        for i in 0..<inner {
            let at = o * d * inner + i
            var dot = 0.0
            for j in 0..<d { dot += Double(dy[at + j * inner]) * Double(y[at + j * inner]) }
            let df = Float(dot)
            for j in 0..<d { let q = at + j * inner; dx[q] += y[q] * (dy[q] - df) }
        }
    }
}

extension Softmax: KindKernel {
    var keeps: KernelKeeps { .output }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    var probe: GradientProbe { .smooth }

    /// torch's dim, `_get_softmax_dim`'s legacy choice when None (0 for 0-, 1- and 3-d inputs, else 1).
    func axis(_ rank: Int) -> Int { dim.map { $0 < 0 ? $0 + rank : $0 } ?? (rank <= 1 || rank == 3 ? 0 : 1) }

    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0], s = AxisLayout(x.shape, axis: axis(x.shape.count))
        let y = Tensor(uninitialized: x.shape)
        let (yp, xp) = (y.data, x.data)
        parallelChunks(s.outer, work: 8 * x.count) { r in softmaxForward(yp, xp, s, outers: r) }
        return y
    }

    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        let y = try call.output(y)
        guard let dx = dxs[0]?.data else { return }
        let s = AxisLayout(y.shape, axis: axis(y.shape.count))
        let (dyp, yp) = (dy.data, y.data)
        parallelChunks(s.outer, work: 4 * y.count) { r in softmaxBackward(dx, dyp, yp, s, outers: r) }
    }
}
