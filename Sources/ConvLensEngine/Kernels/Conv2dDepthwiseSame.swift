// Depthwise Conv2d with "same" padding at stride 1 on small planes (the later stages of MobileNet,
// EfficientNet and ConvNeXt: 3×3, 5×5 and 7×7 depthwise layers on 7×7 to 28×28 maps): the plane is one flat
// run in its own layout, with no padded copy made row by row and no copy back. A sibling of Conv2dDepthwise.swift's general kernels, which
// pad every plane row by row into a wider layout and copy each output row out again: on the small
// maps of the last stages (7×7, 14×14) those short-row loops cost several times the arithmetic.
//
// Legend as in Conv2dDepthwise.swift (H W the plane, KH KW odd, PH = (KH − 1)/2, PW = (KW − 1)/2,
// HW = H·W). For each column shift d = j − PW of the kernel, Xj is the plane shifted by d with the
// columns that wrap across a row edge zeroed (a multiply by a 0/1 mask: one pass over the plane,
// eight floats at a time), between PH·W + 8 zeros above and below:
//
//   Xj[M + p] = x[p + d] · maskj[p]   for p in 0..<HW,   maskj[p] = 1 iff 0 ≤ p mod W + d < W
//
// so that tap (i, j) of output p is Xj[M + p + (i − PH)·W], a fixed shift, for every p:
//   y[p]  = b + Σ_{i,j} w[i, j] · Xj[M + p + (i − PH)·W]                 (`tapRow` over the whole plane)
//   dx[p] += Σ_{i,j} w[KH−1−i, KW−1−j] · DYj[M + p + (i − PH)·W]         (the same, on dy, flipped filter)
//   dw[i, j] += Σ_p dy[p] · Xj[M + p + (i − PH)·W]                        (`tapDot`)
// Threads split as in the general kernels: the forward over (image, channel) pairs, the backward
// over channels (every image of a channel on one thread, so dweight needs no reduction).

/// The shifted, masked copies of one plane, and the tap offsets into them.
struct SameLayout {
    /// The margin M above and below each copy, the floats of one copy (HW + 2M), and the output
    /// run of a thread (HW rounded up to 32, and 32 more: `tapRow`'s reach).
    let margin, copy, runLength: Int
    /// Forward taps k = i·KW + j: offset of tap (i, j) from output p's position in copy 0.
    let taps: [Int]

    /// The geometries this file runs: depthwise (one input and one output channel per group),
    /// stride 1, dilation 1, odd kernels with "same" padding, on planes of at most
    /// `largestForwardPlane` (forward) or `largestPlane` (backward).
    static func applies(_ g: ConvGeometry, forward: Bool) -> Bool {
        g.h * g.w <= (forward ? largestForwardPlane : largestPlane) && g.cg == 1 && g.ocg == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1
            && g.kh % 2 == 1 && g.kw % 2 == 1 && g.ph == (g.kh - 1) / 2 && g.pw == (g.kw - 1) / 2
    }

    /// Backward, measured (`Benchmarks/run engine-depthwise`, b8, 3×3): at 7×7 this file's kernel
    /// takes 0.8× the general kernel's time; at 14×14 it is 1.25× slower, at 28×28 and 56×56
    /// 1.2–1.5× slower (twice KW copies of a plane, x's and dy's, outgrow the L1 cache, where the
    /// general kernel's padded copies do not).
    static let largestPlane = 100
    /// Forward, once a plane is one `tapRow` call straight into y, this file is the faster up to
    /// 28×28: interleaved on a loaded machine, 384@14² 0.44–0.74 ms against 0.77–1.17, and 192@28²
    /// 0.37–0.59 against 0.57–0.78. At 56×56 the two were within the noise.
    static let largestForwardPlane = 784

    init(_ g: ConvGeometry) {
        margin = g.ph * g.w + 8
        copy = g.h * g.w + 2 * margin
        runLength = (g.h * g.w + 31) / 32 * 32 + 32
        var taps: [Int] = []
        for i in 0..<g.kh { for j in 0..<g.kw { taps.append(j * copy + margin + (i - g.ph) * g.w) } }
        self.taps = taps
    }

    /// Floats of one thread's scratch: KW copies of x (and KW of dy in the backward), the dy plane
    /// with eight zeros after it, and the output run.
    static func shareCount(_ g: ConvGeometry) -> Int {
        let l = SameLayout(g)
        return 2 * g.kw * l.copy + g.h * g.w + 8 + l.runLength
    }

    /// maskj for every column shift, [KW, HW].
    static func masks(_ g: ConvGeometry) -> [Float] {
        var m = [Float](repeating: 0, count: g.kw * g.h * g.w)
        for j in 0..<g.kw {
            let d = j - g.pw
            for p in 0..<(g.h * g.w) where (0..<g.w).contains(p % g.w + d) { m[j * g.h * g.w + p] = 1 }
        }
        return m
    }

    /// Writes the KW shifted, masked copies of `src` (HW floats) at dst, dst + copy, …; the margins
    /// must already be zero (they are never written).
    func fill(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, masks: UnsafePointer<Float>, _ g: ConvGeometry) {
        let hw = g.h * g.w
        for j in 0..<g.kw {
            let d = j - g.pw, out = dst + j * copy + margin, mask = masks + j * hw
            // Positions whose source x[p + d] lies outside the plane are masked columns: zero.
            let lo = max(0, -d), hi = min(hw, hw - d)
            for p in 0..<lo { out[p] = 0 }
            for p in hi..<hw { out[p] = 0 }
            if d == 0 {
                var p = 0
                while p &+ 8 <= hw { store8(out + p, load8(src + p)); p &+= 8 }
                while p < hw { out[p] = src[p]; p &+= 1 }
                continue
            }
            var p = lo
            while p &+ 8 <= hi { store8(out + p, load8(src + (p &+ d)) * load8(mask + p)); p &+= 8 }
            while p < hi { out[p] = src[p &+ d] * mask[p]; p &+= 1 }
        }
    }

    /// Zeroes the margins of KW copies at dst.
    func zeroMargins(_ dst: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let hw = g.h * g.w
        for j in 0..<g.kw {
            let c = dst + j * copy
            c.update(repeating: 0, count: margin)
            (c + margin + hw).update(repeating: 0, count: margin)
        }
    }
}

/// y = conv(x, weight) + bias for `SameLayout.applies` geometries. Returns the multiply-accumulates.
func sameDepthwiseForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>,
                          epilogue: ConvEpilogue) -> Int {
    let l = SameLayout(g), share = SameLayout.shareCount(g), hw = g.h * g.w
    // The outputs `tapRow` writes straight into y on a thread's last plane: whole eights, where its
    // blocks end exactly (49 → 48, 196 → 192); the rest go through the run and are copied.
    let direct = hw / 8 * 8
    let masks = SameLayout.masks(g)
    withUnsafePointers(l.taps, masks) { taps, masks in
        parallelParts(g.n * g.c, work: g.macs) { part, items in
            let xs = col + part * share, run = xs + (share - l.runLength)
            l.zeroMargins(xs, g)
            for item in items {
                let (n, c) = (item / g.c, item % g.c)
                l.fill(xs, x + item * hw, masks: masks, g)
                let yo = y + item * hw, wk = weight + c * g.k, b = bias?[c] ?? 0
                if hw >= 8 && item + 1 < items.upperBound {
                    // The whole plane in one call: its last block's spill (< 8 floats) lands in
                    // the next plane, which this thread computes next (49 outputs: one call, no copy).
                    tapRow(yo, xs, taps, wk, taps: g.k, count: hw, bias: b)
                } else {
                    if direct > 0 { tapRow(yo, xs, taps, wk, taps: g.k, count: direct, bias: b) }
                    if hw > direct {
                        tapRow(run, xs + direct, taps, wk, taps: g.k, count: hw - direct, bias: b)
                        for t in 0..<(hw - direct) { yo[direct + t] = run[t] }
                    }
                }
                if !epilogue.isNone { epilogue.apply(y, image: n, channel: c, g, range: 0..<g.ohw) }
            }
        }
    }
    return g.macs
}

/// Accumulates dx (if wanted), dweight and dbias (if any) for `SameLayout.applies` geometries.
func sameDepthwiseBackward(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                           _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) {
    let l = SameLayout(g), share = SameLayout.shareCount(g), hw = g.h * g.w, counted = (hw + 7) / 8 * 8
    let masks = SameLayout.masks(g)
    withUnsafePointers(l.taps, masks) { taps, masks in
        parallelParts(g.c, work: 2 * g.macs) { part, channels in
            let xs = col + part * share, dys = xs + g.kw * l.copy, dyPlane = dys + g.kw * l.copy, run = dyPlane + hw + 8
            l.zeroMargins(xs, g); l.zeroMargins(dys, g)
            (dyPlane + hw).update(repeating: 0, count: 8)
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: g.k) { acc in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: g.k) { flipped in
                let acc = acc.baseAddress!, flipped = flipped.baseAddress!
                for c in channels {
                    let wk = weight + c * g.k
                    for q in 0..<g.k { flipped[q] = wk[g.k - 1 - q] }
                    acc.update(repeating: SIMD8<Float>(), count: g.k)
                    for n in 0..<g.n {
                        let item = n * g.c + c, dyo = dy + item * hw
                        // dweight: dy (eight zeros after it) against each tap's shifted copy of x.
                        l.fill(xs, x + item * hw, masks: masks, g)
                        dyPlane.update(from: dyo, count: hw)
                        tapDot(acc, dyPlane, xs, taps, taps: g.k, count: counted)
                        if let dbias { dbias[c] += sum(dyo, count: hw) }
                        guard let dx else { continue }
                        // dx: the forward's run on dy with the filter flipped, added to dx.
                        l.fill(dys, dyo, masks: masks, g)
                        tapRow(run, dys, taps, flipped, taps: g.k, count: hw, bias: 0)
                        addRow(dx + item * hw, run, hw)
                    }
                    let dwc = dweight + c * g.k
                    for q in 0..<g.k { dwc[q] += acc[q].sum() }
                }
            }
            }
        }
    }
}

/// The base addresses of two arrays, for the duration of `body`.
private func withUnsafePointers<R>(_ a: [Int], _ b: [Float], _ body: (UnsafePointer<Int>, UnsafePointer<Float>) -> R) -> R {
    a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in body(a.baseAddress!, b.baseAddress!) } }
}
