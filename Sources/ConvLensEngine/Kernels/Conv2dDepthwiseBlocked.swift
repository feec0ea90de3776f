// Depthwise Conv2d with eight channels to a vector (the NCHW8c blocking oneDNN and ONNX Runtime
// use): the forward of every depthwise layer (one output channel per group: MobileNet's,
// EfficientNet's, ShuffleNet's, ConvNeXt's, any stride, padding and dilation), and the backward
// of the stride-1 "same" ones. A sibling of Conv2dDepthwise.swift's general kernels, which
// vectorise along a plane's rows: on the small maps of the last stages (7×7, 14×14) each of their
// eight-wide loads straddles rows and needs a padded or masked copy, and the loads, not the
// arithmetic, set the pace. Here a vector holds one pixel of eight channels, so every tap is one
// aligned load and one fused multiply-add whatever the plane's width, and the padding is a zero
// border laid out once per thread.
//
// Legend as in Conv2dDepthwise.swift (H W the input plane, OH OW the output's, KH KW the kernel,
// SH SW stride, PH PW padding, DH DW dilation, HW = H·W); a block is eight consecutive channels
// c0 ..< c0 + 8 of one image n; W4 = OW rounded up to four.
//   T[TR, TW, 8]   the block's input, pixel-major, with a zero border: T[r, s, l] =
//                  x[n, c0 + l, r − PH, s − PW] (0 outside the plane), TR = (OH − 1)·SH +
//                  (KH − 1)·DH + 1 rows of TW = (W4 − 1)·SW + (KW − 1)·DW + 1 (what the outputs read).
//   O[OH, W4, 8]   the block's output (a row's last four outputs may run past OW: computed, never
//                  copied out).
//   y[n, c0 + l, oy, ox] = b[c0 + l] + Σ_{i,j} w[c0 + l, i, j] · T[oy·SH + i·DH, ox·SW + j·DW, l]
// The backward (stride 1, same padding, so OH OW = H W) lays dy out as T too (dY):
//   dw[c0 + l, i, j] += Σ_{n, oy, ox} dY[oy + PH, ox + PW, l] · T[oy + i, ox + j, l]
//   dx               += the forward's sum over dY with the filter flipped
// Planes go in and out through 8×8 transposes (eight pixels of eight planes), three rounds of
// even/odd interleaves; a plane's last HW mod 8 pixels go one float at a time. A block past the
// last channel reads a zero plane and writes nothing.

/// The layouts of one blocked depthwise convolution, and the pixel → vector slot tables.
struct BlockedDepthwiseLayout {
    /// OW rounded up to four; T's row length (TW) and rows; floats of an input and an output plane.
    let w4, tw, tRows, inputPlane, outputPlane: Int
    /// Vector slots of T (its rows, then one slot for input pixels no output reads) and of O, and
    /// floats of one thread's scratch (T, O, the backward's second T, a zero plane).
    let tSlots, oSlots, shareCount: Int
    /// Input pixel p = iy·W + ix's slot in T, and output pixel oy·OW + ox's slot in O.
    let tSlot, oSlot: [Int]
    /// Tap k = i·KW + j's offset, in vectors, from output (oy, ox)'s first input slot,
    /// oy·SH·TW + ox·SW: i·DH·TW + j·DW.
    let taps: [Int]

    /// The forward: any depthwise convolution with one output channel per group (every stride,
    /// padding and dilation; MobileNet's and EfficientNet's stride-2 layers too).
    static func applies(_ g: ConvGeometry) -> Bool { g.cg == 1 && g.ocg == 1 && g.groups > 1 }

    /// The backward: stride 1, dilation 1, odd kernel, "same" padding, where the input gradient
    /// is the forward's sum over dy with the filter flipped, in the same layout. MobileNet's,
    /// EfficientNet's and ConvNeXt's stride-1 depthwise layers at every map size. Measured against
    /// the flat runs this file replaced (`Benchmarks/run engine-depthwise`, b8, 3×3): forward
    /// 1.3–1.8× faster at 7², 14² and 56², backward 1.3–1.8× at 7², 14², 56² and 112², within the
    /// noise at 28².
    static func appliesBackward(_ g: ConvGeometry) -> Bool {
        applies(g) && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1
            && g.kh % 2 == 1 && g.kw % 2 == 1 && g.ph == (g.kh - 1) / 2 && g.pw == (g.kw - 1) / 2
    }

    init(_ g: ConvGeometry) {
        w4 = (g.ow + 3) / 4 * 4
        (inputPlane, outputPlane) = (g.h * g.w, g.ohw)
        tw = (w4 - 1) * g.sw + (g.kw - 1) * g.dw + 1
        tRows = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1
        tSlots = tRows * tw + 1
        oSlots = g.oh * w4
        shareCount = (2 * tSlots + oSlots) * 8 + g.h * g.w + 16        // 8 more: T starts on a 32-byte boundary
        var t: [Int] = [], o: [Int] = []
        for p in 0..<(g.h * g.w) {
            let (r, c) = (p / g.w + g.ph, p % g.w + g.pw)
            t.append(r < tRows && c < tw ? r * tw + c : tRows * tw)
        }
        for p in 0..<g.ohw { o.append(p / g.ow * w4 + p % g.ow) }
        (tSlot, oSlot) = (t, o)
        var k: [Int] = []
        for i in 0..<g.kh { for j in 0..<g.kw { k.append(i * g.dh * tw + j * g.dw) } }
        taps = k
    }
}

/// a with b interleaved: (evens of a, evens of b) and (odds of a, odds of b).
@inline(__always)
private func evens(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(lowHalf: a.evenHalf, highHalf: b.evenHalf) }
@inline(__always)
private func odds(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(lowHalf: a.oddHalf, highHalf: b.oddHalf) }

/// The transpose of the 8×8 matrix whose rows are r[0..<8], in place.
@inline(__always)
func transpose8(_ r: inout (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)) {
    for _ in 0..<3 {
        r = (evens(r.0, r.1), evens(r.2, r.3), evens(r.4, r.5), evens(r.6, r.7),
             odds(r.0, r.1), odds(r.2, r.3), odds(r.4, r.5), odds(r.6, r.7))
    }
}

typealias Planes8 = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                    UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)

extension BlockedDepthwiseLayout {
    /// The eight planes of channels c0 ..< c0 + 8 of image n of `t` (NCHW), the zero plane for
    /// channels past the last.
    @inline(__always)
    func planes(_ t: UnsafePointer<Float>, n: Int, c0: Int, _ g: ConvGeometry, zero: UnsafePointer<Float>) -> Planes8 {
        func p(_ l: Int) -> UnsafePointer<Float> { c0 + l < g.c ? t + (n * g.c + c0 + l) * inputPlane : zero }
        return (p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7))
    }

    /// The eight planes into T's interior (its border and slack are left as they are: zero).
    @inline(__always)
    func fill(_ tv: UnsafeMutablePointer<SIMD8<Float>>, _ src: Planes8, tSlot: UnsafePointer<Int>) {
        let hw = inputPlane
        var p = 0
        while p &+ 8 <= hw {
            var r = (load8(src.0 + p), load8(src.1 + p), load8(src.2 + p), load8(src.3 + p),
                     load8(src.4 + p), load8(src.5 + p), load8(src.6 + p), load8(src.7 + p))
            transpose8(&r)
            tv[tSlot[p]] = r.0; tv[tSlot[p &+ 1]] = r.1; tv[tSlot[p &+ 2]] = r.2; tv[tSlot[p &+ 3]] = r.3
            tv[tSlot[p &+ 4]] = r.4; tv[tSlot[p &+ 5]] = r.5; tv[tSlot[p &+ 6]] = r.6; tv[tSlot[p &+ 7]] = r.7
            p &+= 8
        }
        while p < hw {
            tv[tSlot[p]] = SIMD8(src.0[p], src.1[p], src.2[p], src.3[p], src.4[p], src.5[p], src.6[p], src.7[p])
            p &+= 1
        }
    }

    /// O = bias + Σ_q wb[q] · T[· + taps[q]], four outputs of a row at a time.
    @inline(__always)
    func convolve(_ ov: UnsafeMutablePointer<SIMD8<Float>>, _ tv: UnsafePointer<SIMD8<Float>>, _ wb: UnsafePointer<SIMD8<Float>>,
                  bias: SIMD8<Float>, taps: UnsafePointer<Int>, k: Int, rows: Int, sh: Int, sw: Int) {
        for oy in 0..<rows {
            var ox = 0
            while ox < w4 {
                var a0 = bias, a1 = bias, a2 = bias, a3 = bias
                let s = tv + (oy &* sh &* tw &+ ox &* sw)
                if sw == 1 {
                    for q in 0..<k {
                        let wv = wb[q], t = s + taps[q]
                        a0 = a0.addingProduct(wv, t[0]); a1 = a1.addingProduct(wv, t[1]); a2 = a2.addingProduct(wv, t[2]); a3 = a3.addingProduct(wv, t[3])
                    }
                } else {
                    for q in 0..<k {
                        let wv = wb[q], t = s + taps[q]
                        a0 = a0.addingProduct(wv, t[0]); a1 = a1.addingProduct(wv, t[sw]); a2 = a2.addingProduct(wv, t[2 &* sw]); a3 = a3.addingProduct(wv, t[3 &* sw])
                    }
                }
                let o = ov + (oy &* w4 &+ ox)
                o[0] = a0; o[1] = a1; o[2] = a2; o[3] = a3
                ox &+= 4
            }
        }
    }

    /// O out to the planes of channels c0 ..< c0 + lanes at dst (the first's plane): stored, or
    /// added to what they hold.
    @inline(__always)
    func spill(_ dst: UnsafeMutablePointer<Float>, _ ov: UnsafePointer<SIMD8<Float>>, lanes: Int, add: Bool, oSlot: UnsafePointer<Int>) {
        let hw = outputPlane
        var p = 0
        if lanes == 8 {
            while p &+ 8 <= hw {
                var r = (ov[oSlot[p]], ov[oSlot[p &+ 1]], ov[oSlot[p &+ 2]], ov[oSlot[p &+ 3]],
                         ov[oSlot[p &+ 4]], ov[oSlot[p &+ 5]], ov[oSlot[p &+ 6]], ov[oSlot[p &+ 7]])
                transpose8(&r)
                let d = dst + p
                if add {
                    store8(d, load8(d) + r.0); store8(d + hw, load8(d + hw) + r.1); store8(d + 2 &* hw, load8(d + 2 &* hw) + r.2)
                    store8(d + 3 &* hw, load8(d + 3 &* hw) + r.3); store8(d + 4 &* hw, load8(d + 4 &* hw) + r.4)
                    store8(d + 5 &* hw, load8(d + 5 &* hw) + r.5); store8(d + 6 &* hw, load8(d + 6 &* hw) + r.6)
                    store8(d + 7 &* hw, load8(d + 7 &* hw) + r.7)
                } else {
                    store8(d, r.0); store8(d + hw, r.1); store8(d + 2 &* hw, r.2); store8(d + 3 &* hw, r.3)
                    store8(d + 4 &* hw, r.4); store8(d + 5 &* hw, r.5); store8(d + 6 &* hw, r.6); store8(d + 7 &* hw, r.7)
                }
                p &+= 8
            }
        }
        while p < hw {
            let v = ov[oSlot[p]]
            for lane in 0..<lanes { if add { dst[lane &* hw &+ p] += v[lane] } else { dst[lane &* hw &+ p] = v[lane] } }
            p &+= 1
        }
    }

    /// One thread's scratch in `col`, aligned to 32 bytes: T (zeroed), O, a second T (zeroed, the
    /// backward's dy) when asked, and the zero plane.
    @inline(__always)
    func scratch(_ col: UnsafeMutablePointer<Float>, part: Int, second: Bool)
        -> (t: UnsafeMutablePointer<SIMD8<Float>>, o: UnsafeMutablePointer<SIMD8<Float>>, t2: UnsafeMutablePointer<SIMD8<Float>>, zero: UnsafePointer<Float>) {
        let raw = UnsafeMutableRawPointer(col + part * shareCount)
        let tv = (raw + (-Int(bitPattern: raw) & 31)).assumingMemoryBound(to: SIMD8<Float>.self)
        let ov = tv + tSlots, t2 = ov + oSlots, zero = UnsafeMutableRawPointer(t2 + (second ? tSlots : 0)).assumingMemoryBound(to: Float.self)
        tv.update(repeating: SIMD8(), count: tSlots)
        if second { t2.update(repeating: SIMD8(), count: tSlots) }
        zero.update(repeating: 0, count: inputPlane + 8)
        return (tv, ov, t2, UnsafePointer(zero))
    }
}

/// The weights eight channels to a vector, wT[block, q] (flipped: tap k − 1 − q, the input
/// gradient's filter), and the bias likewise.
private func blockedWeights(_ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, flipped: Bool)
    -> ([SIMD8<Float>], [SIMD8<Float>]) {
    let blocks = (g.c + 7) / 8, k = g.k
    var wT = [SIMD8<Float>](repeating: SIMD8(), count: blocks * k), bT = [SIMD8<Float>](repeating: SIMD8(), count: blocks)
    for c in 0..<g.c {
        for q in 0..<k { wT[c / 8 * k + q][c % 8] = weight[c * k + (flipped ? k - 1 - q : q)] }
        bT[c / 8][c % 8] = bias?[c] ?? 0
    }
    return (wT, bT)
}

/// The base addresses of the arrays a `BlockedDepthwiseLayout` kernel reads, for `body`.
private func withTables<R>(_ l: BlockedDepthwiseLayout, _ wT: [SIMD8<Float>], _ bT: [SIMD8<Float>],
                           _ body: (UnsafePointer<SIMD8<Float>>, UnsafePointer<SIMD8<Float>>, UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Int>) -> R) -> R {
    wT.withUnsafeBufferPointer { wT in bT.withUnsafeBufferPointer { bT in
    l.tSlot.withUnsafeBufferPointer { tSlot in l.oSlot.withUnsafeBufferPointer { oSlot in l.taps.withUnsafeBufferPointer { taps in
        body(wT.baseAddress!, bT.baseAddress!, tSlot.baseAddress!, oSlot.baseAddress!, taps.baseAddress!)
    } } } } }
}

/// y = conv(x, weight) + bias for `BlockedDepthwiseLayout.applies` geometries, the (image, block)
/// pairs split over ConvLens's threads. Returns the multiply-accumulates.
func blockedDepthwiseForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                             _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>,
                             epilogue: ConvEpilogue) -> Int {
    let l = BlockedDepthwiseLayout(g), blocks = (g.c + 7) / 8, k = g.k
    let (wT, bT) = blockedWeights(weight, bias, g, flipped: false)
    withTables(l, wT, bT) { wT, bT, tSlot, oSlot, taps in
        parallelParts(g.n * blocks, work: g.macs) { part, items in
            let s = l.scratch(col, part: part, second: false)
            for item in items {
                let (n, b) = (item / blocks, item % blocks), c0 = b * 8, lanes = min(8, g.c - c0)
                l.fill(s.t, l.planes(x, n: n, c0: c0, g, zero: s.zero), tSlot: tSlot)
                l.convolve(s.o, s.t, wT + b * k, bias: bT[b], taps: taps, k: k, rows: g.oh, sh: g.sh, sw: g.sw)
                l.spill(y + (n * g.c + c0) * g.ohw, s.o, lanes: lanes, add: false, oSlot: oSlot)
                if !epilogue.isNone {
                    for lane in 0..<lanes { epilogue.apply(y, image: n, channel: c0 + lane, g, range: 0..<g.ohw) }
                }
            }
        }
    }
    return g.macs
}

/// Accumulates dx (if wanted), dweight and dbias (if any) for `BlockedDepthwiseLayout.appliesBackward`
/// geometries (the file's header), the blocks split over ConvLens's threads (every image of a
/// block on one thread, so dweight needs no reduction between threads).
func blockedDepthwiseBackward(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                              _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                              _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) {
    let l = BlockedDepthwiseLayout(g), blocks = (g.c + 7) / 8, k = g.k
    let (wT, bT) = blockedWeights(weight, nil, g, flipped: true)
    let center = g.ph * l.tw + g.pw
    withTables(l, wT, bT) { wT, _, tSlot, oSlot, taps in
        parallelParts(blocks, work: 2 * g.macs) { part, items in
            let s = l.scratch(col, part: part, second: true)
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: k) { acc in
                let acc = acc.baseAddress!
                for b in items {
                    let c0 = b * 8, lanes = min(8, g.c - c0)
                    acc.update(repeating: SIMD8(), count: k)
                    var db = SIMD8<Float>()
                    for n in 0..<g.n {
                        l.fill(s.t, l.planes(x, n: n, c0: c0, g, zero: s.zero), tSlot: tSlot)
                        l.fill(s.t2, l.planes(dy, n: n, c0: c0, g, zero: s.zero), tSlot: tSlot)
                        // dweight: four outputs of a row at a time against each tap, then the
                        // row's last few one at a time (never a slot past W: its zero dY times an
                        // infinite input beside it would be a NaN).
                        for oy in 0..<g.h {
                            var ox = 0
                            while ox &+ 4 <= g.w {
                                let d = s.t2 + (center &+ oy &* l.tw &+ ox), t = s.t + (oy &* l.tw &+ ox)
                                let (d0, d1, d2, d3) = (d[0], d[1], d[2], d[3])
                                db += (d0 + d1) + (d2 + d3)
                                for q in 0..<k {
                                    let u = t + taps[q]
                                    acc[q] = acc[q].addingProduct(d0, u[0]).addingProduct(d1, u[1]).addingProduct(d2, u[2]).addingProduct(d3, u[3])
                                }
                                ox &+= 4
                            }
                            while ox < g.w {
                                let d0 = s.t2[center &+ oy &* l.tw &+ ox], t = s.t + (oy &* l.tw &+ ox)
                                db += d0
                                for q in 0..<k { acc[q] = acc[q].addingProduct(d0, t[taps[q]]) }
                                ox &+= 1
                            }
                        }
                        guard let dx else { continue }
                        l.convolve(s.o, s.t2, wT + b * k, bias: SIMD8(), taps: taps, k: k, rows: g.h, sh: 1, sw: 1)
                        l.spill(dx + (n * g.c + c0) * l.inputPlane, s.o, lanes: lanes, add: true, oSlot: oSlot)
                    }
                    for lane in 0..<lanes {
                        for q in 0..<k { dweight[(c0 + lane) * k + q] += acc[q][lane] }
                        dbias?[c0 + lane] += db[lane]
                    }
                }
            }
        }
    }
}
