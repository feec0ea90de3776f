import Foundation

// Depthwise Conv2d as direct kernels: no im2col, no GEMM. MobileNet's, EfficientNet's,
// ShuffleNet's and ConvNeXt's depthwise convolutions (G = C) are a handful of multiply-adds per
// output, far too few for a GEMM per image and group to pay its way. The kernels are written for
// any group width CG; the engine runs them for CG = 1 (see `usesDirect`).
// Legend: N batch, C input channels, H W input size, OC output channels, OH OW output size,
// KH KW kernel, G groups, CG = C/G, OCG = OC/G (the channel multiplier M = OC/C when G = C),
// K = CG·KH·KW taps per output channel; sh sw stride, ph pw padding, dh dw dilation.
// With one output channel per group (M = 1, the usual case) the forward runs in
// Conv2dDepthwiseBlocked.swift instead (eight channels to a vector), and so does the backward of
// the stride-1 same-padded ones; this file's kernels take the rest (multipliers M > 1, and the
// backward of strided, dilated or otherwise padded layers).
//
// Each group's planes are first copied into a zero-padded scratch (per thread, in `col`), so the
// loops over the interior and the padded border are one and the same, with no bounds tests:
//
//   xP[CG, HP, sw, WQ]   the group's input, padded and split by column phase: row r, phase q,
//                        index t holds x[r − ph, sw·t + q − pw] (0 outside the input). Tap (i, j)
//                        of output (oy, ox) is xP[oy·sh + i·dh, (j·dw) mod sw, ox + ⌊j·dw / sw⌋]:
//                        contiguous in ox whatever the stride, so eight outputs are one load.
//   dyP[OCG, RY, CX]     the group's output gradient, padded: dyP[ρ, τ] = dy[ρ + oyMin, τ + oxMin].
//   dyL[OH, DL]          one output channel's gradient with xP's row stride (weight gradient).
//
// Forward and input gradient are both "Σ over taps of weight · a shifted load" (`tapRow`):
//   y[o, oy, ox]   = b[o] + Σ_{ci,i,j} w[o, ci, i, j] · xP[ci, oy·sh + i·dh, …]
//   dx[ci, iy, ix] += Σ_{o,i,j} w[o, ci, i, j] · dy[o, (iy + ph − i·dh)/sh, (ix + pw − j·dw)/sw]
// where the input gradient's sum runs over the taps whose divisions are exact: the input
// positions with the same phase ((iy + ph) mod sh, (ix + pw) mod sw) share one list of taps, and
// consecutive positions of a phase read consecutive dy columns.
//   dw[o, ci, i, j] += Σ_{n,oy,ox} dy[n, o, oy, ox] · xP[ci, oy·sh + i·dh, …] (eight running sums per tap).
// Threads: the forward splits the (image, group) pairs over ConvLens's threads (`parallelParts`),
// the backward splits the groups and runs every image of a group on one thread, so dweight needs
// no reduction between threads; each thread has its own share of `col`.

extension ConvGeometry {
    /// The convolution runs this file's direct kernels: depthwise (G = C > 1, any multiplier).
    /// The kernels take any CG, but from CG = 2 on OpenBLAS's GEMM per group (batched over the
    /// images on small maps, see `imagesPerGEMM`) measured faster (forward 1.4× at CG = 2 up to
    /// 4× at CG = 32: its AVX2 kernels against these SSE loops), so grouped convolutions stay on
    /// im2col + GEMM.
    public var usesDirect: Bool { groups > 1 && cg == 1 }
    /// Floats of one thread's scratch for the direct kernels: xP, dyP, dyL, then the output run.
    var directShareCount: Int {
        let l = DirectLayout(self)
        let general = cg * l.xPlane + ocg * l.dyPlane + l.dyLPlane + l.runLength
        return BlockedDepthwiseLayout.applies(self) ? max(general, BlockedDepthwiseLayout(self).shareCount) : general
    }
}

/// The padded scratch layouts and tap tables of one direct convolution (see the file's header).
/// Stride 1 (`flat`) treats a whole padded plane as one run: output (oy, ox) sits at oy·LD + ox
/// of xP, so every tap is a fixed shift of the run and one call computes the plane eight outputs
/// at a time, the padding columns between rows computed too and dropped when the run is copied
/// out (small maps have short rows: 7–28 outputs, where row-by-row loops spend most of their
/// time on the row's last, partial eight). Other strides go row by row.
struct DirectLayout {
    let flat: Bool
    /// xP: rows HP, phase row length WQ, row stride LD = sw·WQ, plane HP·LD + 32 (`tapRow`'s
    /// last loads reach past the rows; kept zero).
    let hp, wq, ld, xPlane: Int
    /// dyP: the dy row and column at its origin, rows RY, row stride CX, plane RY·CX + 32.
    let oyMin, oxMin, ry, cx, dyPlane: Int
    /// dyL[OH, DL]: one output channel's dy with rows DL apart, zero beyond OW (DL = LD when flat,
    /// so that dyL and xP line up; else OW rounded up to eight), plane OH·DL + 8.
    let dl, dyLPlane: Int
    /// Where dyL lies inside a dyP plane, when it does (stride 1 with CX = LD and dyP's origin at
    /// or before dy's: "same" padding, the usual depthwise case), so that dy is padded once.
    let dyLInDyP: Int?
    /// Floats of the output run (flat: the forward's or the input gradient's whole plane; else one
    /// row), rounded up to eight, and 32 more (`tapRow` stores up to 7 floats past its count; the 32 are kept from when it could store 31).
    let runLength: Int
    /// Forward taps k = (ci·KH + i)·KW + j (the weight's own order): the offset in xP from output
    /// (0, 0)'s position to its tap k.
    let taps: [Int]
    /// Input-gradient taps of phase (qy, qx), index qy·sw + qx: entries phaseStart[p] ..< phaseStart[p + 1]
    /// of `phaseOffsets` (in dyP, from the position of (a, t) = ((iy + ph)/sh, (ix + pw)/sw)) and
    /// `phaseWeights` (o·K + i·KW + j: add ci·KH·KW and the group's first filter for the weight's index).
    let phaseStart: [Int], phaseOffsets: [Int], phaseWeights: [Int]

    init(_ g: ConvGeometry) {
        flat = g.sh == 1 && g.sw == 1
        hp = (g.oh - 1) * g.sh + (g.kh - 1) * g.dh + 1
        wq = (flat ? g.ow : (g.ow + 7) / 8 * 8) + (g.kw - 1) * g.dw / g.sw     // row: room for the last 8-wide load
        ld = g.sw * wq
        xPlane = hp * ld + 32
        var taps: [Int] = []
        for ci in 0..<g.cg {
            for i in 0..<g.kh {
                for j in 0..<g.kw { taps.append(ci * xPlane + i * g.dh * ld + (j * g.dw) % g.sw * wq + j * g.dw / g.sw) }
            }
        }
        self.taps = taps
        let di = (g.kh - 1) * g.dh / g.sh, dj = (g.kw - 1) * g.dw / g.sw       // the largest row and column shifts
        oyMin = g.ph / g.sh - di
        oxMin = g.pw / g.sw - dj
        ry = (g.h - 1 + g.ph) / g.sh - oyMin + 1
        cx = (g.w - 1 + g.pw) / g.sw - oxMin + (flat ? 1 : 8)
        dyPlane = ry * cx + 32
        dl = flat ? ld : (g.ow + 7) / 8 * 8
        dyLPlane = g.oh * dl + 8
        dyLInDyP = flat && cx == ld && oyMin <= 0 && oxMin <= 0 ? -oyMin * cx - oxMin : nil
        runLength = ((flat ? max((g.oh - 1) * ld + g.ow, (g.h - 1) * cx + g.w) : max(g.ow, (g.w + g.sw - 1) / g.sw)) + 7) / 8 * 8 + 32
        var start = [0], offsets: [Int] = [], weights: [Int] = []
        for qy in 0..<g.sh {
            for qx in 0..<g.sw {
                for o in 0..<g.ocg {
                    for i in 0..<g.kh where i * g.dh % g.sh == qy {
                        for j in 0..<g.kw where j * g.dw % g.sw == qx {
                            offsets.append(o * dyPlane - (i * g.dh - qy) / g.sh * cx - (j * g.dw - qx) / g.sw)
                            weights.append(o * g.k + i * g.kw + j)
                        }
                    }
                }
                start.append(offsets.count)
            }
        }
        (phaseStart, phaseOffsets, phaseWeights) = (start, offsets, weights)
    }
}

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

@inline(__always)
func store8(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }

/// out[t] = bias + Σ_q wk[q]·src[taps[q] + t] for t in 0..<count, thirty-two outputs at a time
/// (four independent sums: one sum through all the taps is a chain of dependent adds); the last
/// block is 32, 24, 16 or 8 wide, whichever is the narrowest to cover what is left, so loads and
/// stores reach up to 7 floats past count. Fused
/// multiply-adds throughout this file: `addingProduct` is one vfmadd in the engine's Haswell
/// build, where `a += w * x` is a multiply and an add.
@inline(__always)
func tapRow(_ out: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ taps: UnsafePointer<Int>, _ wk: UnsafePointer<Float>,
            taps k: Int, count: Int, bias: Float) {
    var t = 0
    while count &- t > 24 {
        var a0 = SIMD8<Float>(repeating: bias), a1 = a0, a2 = a0, a3 = a0
        let s = src + t
        for q in 0..<k {
            let wv = SIMD8<Float>(repeating: wk[q]), p = s + taps[q]
            a0 = a0.addingProduct(wv, load8(p)); a1 = a1.addingProduct(wv, load8(p + 8)); a2 = a2.addingProduct(wv, load8(p + 16)); a3 = a3.addingProduct(wv, load8(p + 24))
        }
        store8(out + t, a0); store8(out + t + 8, a1); store8(out + t + 16, a2); store8(out + t + 24, a3)
        t &+= 32
    }
    if count &- t > 16 {                        // 17–24 left: three sums, not a fourth one wasted
        var a0 = SIMD8<Float>(repeating: bias), a1 = a0, a2 = a0
        let s = src + t
        for q in 0..<k {
            let wv = SIMD8<Float>(repeating: wk[q]), p = s + taps[q]
            a0 = a0.addingProduct(wv, load8(p)); a1 = a1.addingProduct(wv, load8(p + 8)); a2 = a2.addingProduct(wv, load8(p + 16))
        }
        store8(out + t, a0); store8(out + t + 8, a1); store8(out + t + 16, a2)
    } else if count &- t > 8 {
        var a0 = SIMD8<Float>(repeating: bias), a1 = a0, b0 = SIMD8<Float>(), b1 = b0
        let s = src + t
        var q = 0
        while q &+ 2 <= k {                         // even and odd taps in separate sums
            let v = SIMD8<Float>(repeating: wk[q]), u = SIMD8<Float>(repeating: wk[q &+ 1])
            let p = s + taps[q], r = s + taps[q &+ 1]
            a0 = a0.addingProduct(v, load8(p)); a1 = a1.addingProduct(v, load8(p + 8)); b0 = b0.addingProduct(u, load8(r)); b1 = b1.addingProduct(u, load8(r + 8))
            q &+= 2
        }
        if q < k { let v = SIMD8<Float>(repeating: wk[q]), p = s + taps[q]; a0 = a0.addingProduct(v, load8(p)); a1 = a1.addingProduct(v, load8(p + 8)) }
        store8(out + t, a0 + b0); store8(out + t + 8, a1 + b1)
    } else if count > t {
        var a = SIMD8<Float>(repeating: bias), b = SIMD8<Float>(), c = b, d = b
        let s = src + t
        var q = 0
        while q &+ 4 <= k {
            a = a.addingProduct(SIMD8<Float>(repeating: wk[q]), load8(s + taps[q])); b = b.addingProduct(SIMD8<Float>(repeating: wk[q &+ 1]), load8(s + taps[q &+ 1]))
            c = c.addingProduct(SIMD8<Float>(repeating: wk[q &+ 2]), load8(s + taps[q &+ 2])); d = d.addingProduct(SIMD8<Float>(repeating: wk[q &+ 3]), load8(s + taps[q &+ 3]))
            q &+= 4
        }
        while q < k { a = a.addingProduct(SIMD8<Float>(repeating: wk[q]), load8(s + taps[q])); q &+= 1 }
        store8(out + t, (a + b) + (c + d))
    }
}

/// acc[q] += Σ_t d[t]·src[taps[q] + t] lane by lane, t in 0..<count by eights (count a multiple of
/// eight), three taps at a time in registers so that each load of d serves three taps.
@inline(__always)
func tapDot(_ acc: UnsafeMutablePointer<SIMD8<Float>>, _ d: UnsafePointer<Float>, _ src: UnsafePointer<Float>,
            _ taps: UnsafePointer<Int>, taps k: Int, count: Int) {
    var q = 0
    while q &+ 3 <= k {
        var a0 = acc[q], a1 = acc[q &+ 1], a2 = acc[q &+ 2]
        let p0 = src + taps[q], p1 = src + taps[q &+ 1], p2 = src + taps[q &+ 2]
        var t = 0
        while t < count {
            let v = load8(d + t)
            a0 = a0.addingProduct(v, load8(p0 + t)); a1 = a1.addingProduct(v, load8(p1 + t)); a2 = a2.addingProduct(v, load8(p2 + t))
            t &+= 8
        }
        acc[q] = a0; acc[q &+ 1] = a1; acc[q &+ 2] = a2
        q &+= 3
    }
    while q < k {
        var a = acc[q], t = 0
        let p = src + taps[q]
        while t < count { a = a.addingProduct(load8(d + t), load8(p + t)); t &+= 8 }
        acc[q] = a
        q &+= 1
    }
}

/// dst[0..<n] = src[0..<n] by eight-float copies, the last overlapping the one before; rows
/// shorter than eight by one eight-float copy when `spill` (the caller's promise: 8 floats may be
/// read at src and written at dst, and what lands past n is rewritten afterwards), else float by float.
@inline(__always)
func copyRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int, spill: Bool) {
    if n >= 8 {
        var t = 0
        while t &+ 8 < n { store8(dst + t, load8(src + t)); t &+= 8 }
        store8(dst + (n &- 8), load8(src + (n &- 8)))
    } else if spill {
        store8(dst, load8(src))
    } else {
        for t in 0..<n { dst[t] = src[t] }
    }
}

/// dst[0..<n] += src[0..<n], eight at a time, then the rest.
@inline(__always)
func addRow(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var t = 0
    while t &+ 8 <= n { store8(dst + t, load8(dst + t) + load8(src + t)); t &+= 8 }
    while t < n { dst[t] += src[t]; t &+= 1 }
}

/// dst[rows, s, wq] from src[h, w]: row r, phase q, index t holds src[r + r0, s·t + q + c0], 0 outside
/// src; then `tail` more zeros.
func padPlane(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, h: Int, w: Int,
              rows: Int, r0: Int, s: Int, wq: Int, c0: Int, tail: Int) {
    for q in 0..<s {
        // Once per phase, and without dividing at stride 1: a division costs more than a short row's copy.
        let first = min(max(0, -c0), wq)
        let (lo, hi) = s == 1 ? (first, max(first, min(wq, w - c0))) : validRange(off: q + c0, stride: s, size: w, count: wq)
        for r in 0..<rows {
            let sr = r &+ r0, dq = dst + (r &* s &+ q) &* wq
            guard sr >= 0 && sr < h else { zeroRow(dq, wq); continue }
            let from = src + (sr &* w &+ q &+ c0)
            zeroFew(dq, lo)
            if s == 1 {
                // A spill lands where zeroFew, the later rows or the tail write; it reads within src.
                copyRow(dq + lo, from + lo, hi - lo, spill: (h - sr) * w - (q + c0 + lo) >= 8 && tail >= 8)
            } else {
                for t in lo..<hi { dq[t] = from[t &* s] }
            }
            zeroRow(dq + hi, wq - hi)
        }
    }
    zeroRow(dst + rows * s * wq, tail)
}

/// Zeroes n floats, eight at a time when n ≥ 8 (the last eight overlapping): the short runs of
/// padding here would otherwise be memset calls, costlier than the stores.
@inline(__always)
func zeroRow(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    guard n >= 8 else { return zeroFew(p, n) }
    var t = 0
    while t &+ 8 < n { store8(p + t, SIMD8<Float>()); t &+= 8 }
    store8(p + (n &- 8), SIMD8<Float>())
}

/// y[N, OC, OH, OW] = conv(x[N, C, H, W], weight[OC, CG, KH, KW]) + bias[OC] for `usesDirect`
/// geometries, the (image, group) pairs split over ConvLens's threads. `col` holds g.colCount
/// floats. Returns the multiply-accumulates (N·OC·OH·OW·K).
func directConvForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                       _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>,
                       epilogue: ConvEpilogue = .none) -> Int {
    if BlockedDepthwiseLayout.applies(g) { return blockedDepthwiseForward(y, x, weight, bias, g, col: col, epilogue: epilogue) }
    let l = DirectLayout(g), share = g.directShareCount
    l.taps.withUnsafeBufferPointer { taps in
        let taps = taps.baseAddress!
        parallelParts(g.n * g.groups, work: g.macs) { part, items in
            let xp = col + part * share, run = xp + (share - l.runLength)
            var (n, grp) = (items.lowerBound / g.groups, items.lowerBound % g.groups)
            for _ in items {
                defer { grp += 1; if grp == g.groups { (n, grp) = (n + 1, 0) } }
                for ci in 0..<g.cg {
                    padPlane(xp + ci * l.xPlane, x + (n * g.c + grp * g.cg + ci) * g.h * g.w, h: g.h, w: g.w,
                             rows: l.hp, r0: -g.ph, s: g.sw, wq: l.wq, c0: -g.pw, tail: 32)
                }
                for o in (grp * g.ocg)..<((grp + 1) * g.ocg) {
                    let yo = y + (n * g.oc + o) * g.ohw, wk = weight + o * g.k, b = bias?[o] ?? 0
                    if l.flat {
                        // The plane as one run over xP's rows, then its OW-wide rows copied out.
                        tapRow(run, xp, taps, wk, taps: g.k, count: (g.oh - 1) * l.ld + g.ow, bias: b)
                        for oy in 0..<g.oh {
                            let d = yo + oy * g.ow, r = run + oy * l.ld
                            copyRow(d, r, g.ow, spill: (g.oh - oy) * g.ow >= 8)      // a spill lands in the plane's later rows
                        }
                    } else {
                        for oy in 0..<g.oh {
                            tapRow(run, xp + oy * g.sh * l.ld, taps, wk, taps: g.k, count: g.ow, bias: b)
                            copyRow(yo + oy * g.ow, run, g.ow, spill: (g.oh - oy) * g.ow >= 8)
                        }
                    }
                    if !epilogue.isNone { epilogue.apply(y, image: n, channel: o, g, range: 0..<g.ohw) }
                }
            }
        }
    }
    return g.macs
}

/// For `usesDirect` geometries: accumulates dx[N, C, H, W] (if wanted), dweight[OC, CG, KH, KW]
/// and dbias[OC] (if any) from dy[N, OC, OH, OW]. The groups are split over ConvLens's threads,
/// each running every image of its groups, so no two threads write the same gradient.
func directConvBackward(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                        _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) {
    if BlockedDepthwiseLayout.appliesBackward(g) { return blockedDepthwiseBackward(dx, dweight, dbias, dy, x, weight, g, col: col) }
    let l = DirectLayout(g), share = g.directShareCount
    let phaseTaps = l.phaseWeights.count
    withUnsafePointers(l.taps, l.phaseStart, l.phaseOffsets, l.phaseWeights) { taps, phaseStart, phaseOffsets, phaseWeights in
        parallelParts(g.groups, work: 2 * g.macs) { part, groups in
            let xp = col + part * share, dyp = xp + g.cg * l.xPlane, dyl = dyp + g.ocg * l.dyPlane, run = dyl + l.dyLPlane
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: g.ocg * g.k) { acc in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: phaseTaps) { wbuf in
                let acc = acc.baseAddress!, wbuf = wbuf.baseAddress!
                for grp in groups {
                    // acc[o, q]: eight running sums of dweight[grp·OCG + o, q] over all the images.
                    acc.update(repeating: SIMD8<Float>(), count: g.ocg * g.k)
                    for n in 0..<g.n {
                        for ci in 0..<g.cg {
                            padPlane(xp + ci * l.xPlane, x + (n * g.c + grp * g.cg + ci) * g.h * g.w, h: g.h, w: g.w,
                                     rows: l.hp, r0: -g.ph, s: g.sw, wq: l.wq, c0: -g.pw, tail: 32)
                        }
                        if dx != nil || l.dyLInDyP != nil {
                            for o in 0..<g.ocg {
                                padPlane(dyp + o * l.dyPlane, dy + (n * g.oc + grp * g.ocg + o) * g.ohw, h: g.oh, w: g.ow,
                                         rows: l.ry, r0: l.oyMin, s: 1, wq: l.cx, c0: l.oxMin, tail: 32)
                            }
                        }
                        // acc[o] += dy[n, o] · xP shifted by each tap; dbias[o] += Σ dy[n, o].
                        for o in 0..<g.ocg {
                            let dyo = dy + (n * g.oc + grp * g.ocg + o) * g.ohw, ao = acc + o * g.k
                            var dyRows = dyl
                            if let at = l.dyLInDyP { dyRows = dyp + o * l.dyPlane + at } else {
                                padPlane(dyl, dyo, h: g.oh, w: g.ow, rows: g.oh, r0: 0, s: 1, wq: l.dl, c0: 0, tail: 8)
                            }
                            if l.flat {
                                tapDot(ao, dyRows, xp, taps, taps: g.k, count: ((g.oh - 1) * l.ld + g.ow + 7) / 8 * 8)
                            } else {
                                for oy in 0..<g.oh { tapDot(ao, dyRows + oy * l.dl, xp + oy * g.sh * l.ld, taps, taps: g.k, count: l.dl) }
                            }
                            if let dbias { dbias[grp * g.ocg + o] += sum(dyo, count: g.ohw) }
                        }
                        guard let dx else { continue }
                        for ci in 0..<g.cg {
                            let wg = weight + grp * g.ocg * g.k + ci * g.kh * g.kw
                            for p in 0..<phaseTaps { wbuf[p] = wg[phaseWeights[p]] }
                            let dxc = dx + (n * g.c + grp * g.cg + ci) * g.h * g.w
                            if l.flat {
                                // One run over dyP's rows from input (0, 0)'s position, then added to dx row by row.
                                let base = dyp + (g.ph - l.oyMin) * l.cx + (g.pw - l.oxMin)
                                tapRow(run, base, phaseOffsets, wbuf, taps: phaseTaps, count: (g.h - 1) * l.cx + g.w, bias: 0)
                                for iy in 0..<g.h {
                                    let d = dxc + iy * g.w, r = run + iy * l.cx
                                    addRow(d, r, g.w)
                                }
                                continue
                            }
                            for iy in 0..<g.h {
                                let (a, qy) = ((iy + g.ph) / g.sh, (iy + g.ph) % g.sh)
                                let base = dyp + (a - l.oyMin) * l.cx - l.oxMin, dxr = dxc + iy * g.w
                                for qx in 0..<g.sw {
                                    let first = phaseStart[qy * g.sw + qx], count = phaseStart[qy * g.sw + qx + 1] - first
                                    // The t with ix = sw·t + qx − pw in 0..<W.
                                    let tlo = (g.pw - qx + g.sw - 1) / g.sw, last = g.w - 1 + g.pw - qx
                                    guard count > 0, last >= 0, last / g.sw + 1 > tlo else { continue }
                                    let tn = last / g.sw + 1 - tlo
                                    tapRow(run, base + tlo, phaseOffsets + first, wbuf + first, taps: count, count: tn, bias: 0)
                                    let d = dxr + (tlo * g.sw + qx - g.pw)
                                    for t in 0..<tn { d[t &* g.sw] += run[t] }
                                }
                            }
                        }
                    }
                    let dwg = dweight + grp * g.ocg * g.k
                    for q in 0..<(g.ocg * g.k) { dwg[q] += acc[q].sum() }
                }
            }
            }
        }
    }
}

/// The base addresses of four arrays, for the duration of `body`.
private func withUnsafePointers<R>(_ a: [Int], _ b: [Int], _ c: [Int], _ d: [Int],
                                   _ body: (UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Int>, UnsafePointer<Int>) -> R) -> R {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeBufferPointer { c in
                d.withUnsafeBufferPointer { d in body(a.baseAddress!, b.baseAddress!, c.baseAddress!, d.baseAddress!) }
            }
        }
    }
}
