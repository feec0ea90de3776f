import ConvLensGraph

// Data movement: permute, channel shuffle, chunk; and mean over axes. Legend: E elements.

/// A permutation of a tensor's axes with runs of axes that stay together merged
/// (NCHW → NHWC is [N, C, H·W] → [N, H·W, C]).
struct PermutePlan {
    /// Output sizes and, per output axis, the input stride it steps by.
    var sizes: [Int] = []
    var strides: [Int] = []

    init(input shape: [Int], perm: [Int]) {
        var inStride = [Int](repeating: 1, count: shape.count)
        for a in stride(from: shape.count - 2, through: 0, by: -1) { inStride[a] = inStride[a + 1] * shape[a + 1] }
        for (a, p) in perm.enumerated() {
            if shape[p] == 1 { continue }                                       // size-1 axes move nothing
            if a > 0, let last = strides.last, last == inStride[p] * shape[p] {  // p continues the previous run
                sizes[sizes.count - 1] *= shape[p]; strides[strides.count - 1] = inStride[p]
            } else {
                sizes.append(shape[p]); strides.append(inStride[p])
            }
        }
        if sizes.isEmpty { sizes = [1]; strides = [1] }
    }
}

/// dst = src with its axes permuted (`accumulate`: dst += …). A batch of 2-D transposes (the
/// NCHW ↔ NHWC permutes around LayerNorm) goes in 16×16 tiles; anything else row by row.
func permuteCopy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, input shape: [Int], perm: [Int], accumulate: Bool) {
    let p = PermutePlan(input: shape, perm: perm)
    let rank = p.sizes.count
    let total = p.sizes.reduce(1, *)
    if rank == 1 {
        if accumulate { ConvLensEngine.accumulate(dst, src, count: total) } else { dst.update(from: src, count: total) }
        return
    }
    // [B, Q, P] from input [B, P, Q]: output axis 1 steps 1 in the input, axis 2 steps Q.
    if rank <= 3, p.strides[rank - 2] == 1, rank == 2 || p.strides[0] == p.sizes[rank - 2] * p.sizes[rank - 1] {
        let (q, pp) = (p.sizes[rank - 2], p.sizes[rank - 1])
        let batches = rank == 3 ? p.sizes[0] : 1
        parallelChunks(batches * q, work: total) { r in
            // Rows of the output [B·Q, P]: tile over (row, column) blocks.
            let t = 16
            var r0 = r.lowerBound
            while r0 < r.upperBound {
                let r1 = min(r.upperBound, (r0 / q + 1) * q, r0 + t)     // stay inside one batch
                let b = r0 / q
                let sb = src + b * q * pp, db = dst + b * q * pp
                for c0 in stride(from: 0, to: pp, by: t) {
                    let c1 = min(pp, c0 + t)
                    for row in r0..<r1 {
                        let qi = row - b * q
                        let d = db + qi * pp
                        if accumulate { for c in c0..<c1 { d[c] += sb[c * q + qi] } } else { for c in c0..<c1 { d[c] = sb[c * q + qi] } }
                    }
                }
                r0 = r1
            }
        }
        return
    }
    // General: odometer over the output's leading axes, the last one as an inner run.
    let inner = p.sizes[rank - 1], innerStride = p.strides[rank - 1]
    let rows = total / inner
    let (sizes, strides) = (p.sizes, p.strides)
    parallelChunks(rows, work: total) { r in
        for row in r {
            var rem = row, off = 0
            for a in stride(from: rank - 2, through: 0, by: -1) { off += (rem % sizes[a]) * strides[a]; rem /= sizes[a] }
            let d = dst + row * inner, s = src + off
            if innerStride == 1 {
                if accumulate { ConvLensEngine.accumulate(d, s, count: inner) } else { d.update(from: s, count: inner) }
            } else if accumulate {
                for i in 0..<inner { d[i] += s[i * innerStride] }
            } else {
                for i in 0..<inner { d[i] = s[i * innerStride] }
            }
        }
    }
}

/// The inverse of a permutation: permuting by `perm` then by its inverse is the identity.
func inversePermutation(_ perm: [Int]) -> [Int] {
    var inv = [Int](repeating: 0, count: perm.count)
    for (a, p) in perm.enumerated() { inv[p] = a }
    return inv
}

extension Permute: KindKernel {
    var keeps: KernelKeeps { .nothing }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    var probe: GradientProbe { .linear }
    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0]
        let y = Tensor(uninitialized: dims.map { x.shape[$0] })
        permuteCopy(y.data, x.data, input: x.shape, perm: dims, accumulate: false)
        return y
    }
    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        guard let dx = dxs[0]?.data else { return }
        permuteCopy(dx, dy.data, input: dy.shape, perm: inversePermutation(dims), accumulate: true)
    }
}

extension ChannelShuffle: KindKernel {
    var keeps: KernelKeeps { .nothing }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    var probe: GradientProbe { .linear }
    /// torchvision's view [N, g, C/g, H·W] → transpose(1, 2).
    func grouped(_ s: [Int]) -> [Int] { [s[0], groups, s[1] / groups, s[2...].reduce(1, *)] }
    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0], y = Tensor(uninitialized: x.shape)
        permuteCopy(y.data, x.data, input: grouped(x.shape), perm: [0, 2, 1, 3], accumulate: false)
        return y
    }
    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        guard let dx = dxs[0]?.data else { return }
        let g = grouped(dy.shape)
        permuteCopy(dx, dy.data, input: [g[0], g[2], g[1], g[3]], perm: [0, 2, 1, 3], accumulate: true)
    }
}

extension Chunk: KindKernel {
    var keeps: KernelKeeps { .nothing }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    var probe: GradientProbe { .linear }
    /// The input as [outer, D, inner] around `dim`, and the piece's first index along it and length.
    func piece(_ shape: [Int]) -> (AxisLayout, start: Int, length: Int) {
        let s = AxisLayout(shape, axis: dim)
        let length = s.d / chunks
        return (s, index * length, length)
    }
    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0], (s, start, length) = piece(x.shape)
        var shape = x.shape
        shape[dim < 0 ? dim + shape.count : dim] = length
        let y = Tensor(uninitialized: shape)
        for o in 0..<s.outer { (y.data + o * length * s.inner).update(from: x.data + (o * s.d + start) * s.inner, count: length * s.inner) }
        return y
    }
    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        guard let dx = dxs[0] else { return }
        let (s, start, length) = piece(dx.shape)
        for o in 0..<s.outer { accumulate(dx.data + (o * s.d + start) * s.inner, dy.data + o * length * s.inner, count: length * s.inner) }
    }
}

extension Mean: KindKernel {
    var keeps: KernelKeeps { .nothing }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    var probe: GradientProbe { .linear }

    /// The reduced axes moved last when they are not already one run: (permutation or nil, kept
    /// elements, reduced elements per output, inner elements after the run).
    func plan(_ shape: [Int]) -> (perm: [Int]?, layout: AxisLayout) {
        let ds = resolved(shape.count).sorted()
        let n = ds.map { shape[$0] }.reduce(1, *)
        if ds.last! - ds.first! + 1 == ds.count {          // one run of axes: [outer, n, inner]
            return (nil, AxisLayout(outer: shape[..<ds.first!].reduce(1, *), d: n, inner: shape[(ds.last! + 1)...].reduce(1, *)))
        }
        let perm = shape.indices.filter { !ds.contains($0) } + ds
        return (perm, AxisLayout(outer: shape.reduce(1, *) / n, d: n, inner: 1))
    }

    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        var x = xs[0]
        let (perm, s) = plan(x.shape)
        if let perm {
            let t = Tensor(uninitialized: [x.count])
            permuteCopy(t.data, x.data, input: x.shape, perm: perm, accumulate: false)
            x = t
        }
        let y = Tensor(zeros: call.node.outputShape)
        let (yp, xp, scale) = (y.data, x.data, 1 / Float(s.d))
        for o in 0..<s.outer {
            let yo = yp + o * s.inner
            if s.inner == 1 { yo[0] = sum(xp + o * s.d, count: s.d) * scale; continue }
            for j in 0..<s.d { accumulate(yo, xp + (o * s.d + j) * s.inner, count: s.inner) }
            for i in 0..<s.inner { yo[i] *= scale }
        }
        return y
    }

    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        guard let dxt = dxs[0] else { return }
        let (perm, s) = plan(dxt.shape)
        // ∂/∂x = dy / n broadcast over the reduced axes (in the permuted layout, then permuted back).
        let spread = perm == nil ? dxt : Tensor(zeros: [dxt.count])
        let (dp, dyp, scale) = (spread.data, dy.data, 1 / Float(s.d))
        for o in 0..<s.outer {
            for j in 0..<s.d {
                let d = dp + (o * s.d + j) * s.inner, g = dyp + o * s.inner
                for i in 0..<s.inner { d[i] += g[i] * scale }
            }
        }
        if let perm {
            permuteCopy(dxt.data, spread.data, input: perm.map { dxt.shape[$0] }, perm: inversePermutation(perm), accumulate: true)
        }
    }
}
