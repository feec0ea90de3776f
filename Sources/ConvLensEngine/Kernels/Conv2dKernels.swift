import ConvLensGraph
import Foundation

// Conv2d as im2col + one sgemm per image and group (llm.c style: outputs first, d-prefixed grads).
// Legend: N batch, C input channels, H W input size, OC output channels, OH OW output size,
// KH KW kernel, G groups, CG = C/G, OCG = OC/G, K = CG·KH·KW (the GEMM's inner dimension).

/// Everything about one convolution call's shapes.
public struct ConvGeometry: Sendable {
    public var n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups: Int
    public var cg: Int { c / groups }
    public var ocg: Int { oc / groups }
    public var k: Int { cg * kh * kw }
    public var ohw: Int { oh * ow }
    /// A 1×1, stride-1, unpadded convolution reads its input directly as the column matrix.
    public var isPointwise: Bool { kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 }
    /// Images per GEMM: small feature maps (OH·OW < 1024: ResNet's layer4, Inception's 8×8,
    /// ConvNet's, ResNeXt's grouped 14×14 and 7×7) make thin per-image GEMMs, so several images
    /// share one GEMM over [K, images·OH·OW], one per group. See `imagesPerGEMM(n:ohw:k:)`.
    public var imagesPerGEMM: Int = 1
    /// Output rows per GEMM when images are not batched: the column matrix of a large feature map
    /// (VGG's 224×224×576 is 115 MB) is built and multiplied a band of rows at a time, so it stays
    /// in cache between im2col writing it and the GEMM reading it.
    public var tileRows: Int = 1
    /// The forward pass runs Winograd F(m×m, 3×3), m = `winogradTile` (see Conv2dWinograd.swift);
    /// on by default where F(2×2) applies (`winogradEligible`). `verify` turns it off to check the
    /// direct kernel.
    public var winograd = false
    /// Winograd's output tile m: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3) (the eval fast path's
    /// choice, `fastWinogradTile`).
    public var winogradTile = 2
    /// The caller passes Winograd's transformed filters (`ConvEpilogue.transformedFilters`), so
    /// the scratch has no room for them (`winogradColCount`).
    public var winogradFiltersGiven = false
    /// A 1×1 convolution by ConvLens's own kernel (Conv2dPointwise.swift), its filters packed
    /// once and passed in `ConvEpilogue.transformedFilters`: the eval fast path's choice for
    /// ungrouped pointwise convolutions whose activation is a clamp (`Engine.takesPackedPointwise`).
    public var packedPointwise = false
    /// Floats of the scratch buffer: unbatched, the columns [K, tileRows·OW] of one band; batched,
    /// the columns [K, B·OH·OW] plus one group's GEMM output [OCG, B·OH·OW].
    /// When the passes split the batch over two threads (see Conv2dSplit.swift), each thread's
    /// share follows the same layout, one after the other. The direct kernels (`usesDirect`,
    /// Conv2dDepthwise.swift) need one share of padded planes per ConvLens thread.
    public var colCount: Int {
        if packedPointwise { return pointwiseColCount }
        if usesDirect { return BLAS.threads * directShareCount }
        return max(serialColCount, splitsBatch ? batchParts * partColCount + (batchParts - 1) * (oc * k + oc) : 0)
    }
    /// Floats one thread's scratch needs for this geometry.
    var serialColCount: Int {
        let im2col = imagesPerGEMM > 1 ? imagesPerGEMM * ohw * (k + ocg) : (isPointwise ? 0 : k * tileRows * ow)
        return winograd ? max(im2col, winogradColCount) : im2col
    }
    /// Multiply-accumulates of one forward call: N·OC·OH·OW·K.
    public var macs: Int { n * oc * ohw * k }

    /// Shapes come from the graph node (the analyzer computed OH, OW once: floor((n + 2p − d(k−1) − 1)/s) + 1).
    public init(input x: [Int], output y: [Int], layer l: Conv2d) {
        n = x[0]; c = x[1]; h = x[2]; w = x[3]; oc = l.outChannels; oh = y[2]; ow = y[3]
        kh = l.kernelSize[0]; kw = l.kernelSize[1]; sh = l.stride[0]; sw = l.stride[1]
        ph = l.padding[0]; pw = l.padding[1]; dh = l.dilation[0]; dw = l.dilation[1]; groups = l.groups
        imagesPerGEMM = Self.imagesPerGEMM(n: n, ohw: ohw, k: k)
        tileRows = max(1, min(oh, max((Self.minColumns + ow - 1) / max(ow, 1), Self.cacheFloats / max(1, k * ow))))
        winograd = winogradEligible
    }

    /// Column floats that stay in a core's cache (L2 here is 512 KB) between im2col and the GEMM.
    static let cacheFloats = 96 << 10
    /// The narrowest GEMM worth making (columns of the output per call).
    static let minColumns = 512

    /// As many images as keep the columns in cache, but at least enough for `minColumns` columns.
    static func imagesPerGEMM(n: Int, ohw: Int, k: Int) -> Int {
        guard ohw < 1024 && n > 1 else { return 1 }
        let wide = (minColumns + ohw - 1) / ohw, cached = cacheFloats / max(1, k * ohw)
        return max(1, min(n, max(wide, cached)))
    }
}

/// The outputs o in lo..<hi whose input index o·stride + off lies in [0, size), for `count` outputs.
@inline(__always)
func validRange(off: Int, stride: Int, size: Int, count: Int) -> (lo: Int, hi: Int) {
    let lo = min(off < 0 ? (-off + stride - 1) / stride : 0, count)
    let hi = max(lo, size - 1 - off < 0 ? 0 : min(count, (size - 1 - off) / stride + 1))
    return (lo, hi)
}

/// col[K, rows·OW] from one image's group of channels x[CG, H, W] for output rows `rows` (all by
/// default); row r = (c, i, j), rows `ld` apart. The valid ranges are worked out once per kernel
/// tap (no divisions or bounds tests per pixel), and rows are short (often 7–56 floats), so plain
/// loops, not memset/memmove calls.
func im2col(_ col: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ g: ConvGeometry, ld: Int? = nil,
            channels: Range<Int>? = nil, rows: Range<Int>? = nil) {
    let rows = rows ?? 0..<g.oh
    let ld = ld ?? rows.count * g.ow
    let channels = channels ?? 0..<g.cg
    let (ow, sw, sh, w) = (g.ow, g.sw, g.sh, g.w)
    let (first, end) = (rows.lowerBound * ow, rows.upperBound * ow)
    var r = channels.lowerBound * g.kh * g.kw
    for c in channels {
        let xc = x + c * g.h * g.w
        for i in 0..<g.kh {
            let offH = i * g.dh - g.ph
            let valid = validRange(off: offH, stride: sh, size: g.h, count: g.oh)
            let rLo = min(max(valid.lo, rows.lowerBound), rows.upperBound), rHi = max(rLo, min(valid.hi, rows.upperBound))
            for j in 0..<g.kw {
                let offW = j * g.dw - g.pw
                let (lo, hi) = validRange(off: offW, stride: sw, size: w, count: ow)
                let row = col + r * ld - first          // indexed by output pixel oh·OW + ow
                for p in first..<(rLo * ow) { row[p] = 0 }
                if sh == 1 && sw == 1 && ow == w {
                    // "Same"-width stride-1 convolution (3×3 padding 1 and the like): the valid rows
                    // are one shifted run of the plane, copied at once; the columns that wrapped
                    // round from the neighbouring row are zeroed after.
                    let base = (rLo + offH) * w + offW, count = (rHi - rLo) * ow, plane = g.h * w
                    let dst = row + rLo * ow
                    let from = max(0, -base), to = min(count, plane - base)
                    if from < to { (dst + from).update(from: xc + base + from, count: to - from) }
                    for oh in 0..<(rHi - rLo) {
                        let d = dst + oh &* ow
                        zeroFew(d, lo)
                        zeroFew(d + hi, ow - hi)
                    }
                } else {
                    for oh in rLo..<rHi {
                        let dst = row + oh &* ow, src = xc + ((oh &* sh &+ offH) &* w &+ offW)
                        zeroFew(dst, lo)
                        if sw == 1 {
                            for q in lo..<hi { dst[q] = src[q] }
                        } else {
                            for q in lo..<hi { dst[q] = src[q &* sw] }
                        }
                        zeroFew(dst + hi, ow - hi)
                    }
                }
                for p in (rHi * ow)..<end { row[p] = 0 }
                r += 1
            }
        }
    }
}

/// Zeroes n floats; the 0–2 of a padded row's edge with plain stores (a loop would become a
/// memset call, costlier than the stores).
@inline(__always)
func zeroFew(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n <= 0 { return }
    p[0] = 0
    if n == 1 { return }
    p[1] = 0
    if n > 2 { (p + 2).update(repeating: 0, count: n - 2) }
}

/// dx[CG, H, W] += the column gradient dcol[K, rows·OW] (rows `ld` apart) of output rows `rows`
/// scattered back (im2col's adjoint).
func col2im(_ dx: UnsafeMutablePointer<Float>, _ dcol: UnsafePointer<Float>, _ g: ConvGeometry, ld: Int? = nil,
            channels: Range<Int>? = nil, rows: Range<Int>? = nil) {
    let rows = rows ?? 0..<g.oh
    let ld = ld ?? rows.count * g.ow
    let channels = channels ?? 0..<g.cg
    let (ow, sw, sh, w) = (g.ow, g.sw, g.sh, g.w)
    var r = channels.lowerBound * g.kh * g.kw
    for c in channels {
        let xc = dx + c * g.h * g.w
        for i in 0..<g.kh {
            let offH = i * g.dh - g.ph
            let valid = validRange(off: offH, stride: sh, size: g.h, count: g.oh)
            let rLo = min(max(valid.lo, rows.lowerBound), rows.upperBound), rHi = max(rLo, min(valid.hi, rows.upperBound))
            for j in 0..<g.kw {
                let offW = j * g.dw - g.pw
                let (lo, hi) = validRange(off: offW, stride: sw, size: w, count: ow)
                let row = dcol + r * ld - rows.lowerBound * ow
                for oh in rLo..<rHi {
                    let src = row + oh &* ow, dst = xc + ((oh &* sh &+ offH) &* w &+ offW)
                    if sw == 1 {
                        for q in lo..<hi { dst[q] += src[q] }
                    } else {
                        for q in lo..<hi { dst[q &* sw] += src[q] }
                    }
                }
                r += 1
            }
        }
    }
}

/// y[N, OC, OH, OW] = conv(x[N, C, H, W], weight[OC, CG, KH, KW]) + bias[OC]: depthwise and
/// narrow grouped geometries (`usesDirect`) by the direct kernels, the others by im2col + GEMM.
/// `col` holds at least g.colCount floats. `epilogue` (the eval fast path's residual add and
/// activation) is applied to each output element after the bias. Returns the multiply-accumulates performed.
@discardableResult
func conv2dForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                   _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>, epilogue: ConvEpilogue = .none) -> Int {
    if g.packedPointwise {
        guard let packed = epilogue.transformedFilters else { preconditionFailure("a packed 1×1 convolution needs its packed filters") }
        return conv2dForwardPointwise(y, x, packed: packed, bias, g, col: col, epilogue: epilogue)
    }
    if g.usesDirect { return directConvForward(y, x, weight, bias, g, col: col, epilogue: epilogue) }
    if g.splitsBatch { return conv2dForwardSplit(y, x, weight, bias, g, col: col, epilogue: epilogue) }
    return conv2dForwardImages(y, x, weight, bias, g, col: col, parallel: true, epilogue: epilogue)
}

/// The im2col + GEMM forward pass over all of g's images on the calling thread (any geometry,
/// `usesDirect` ones too: tests compare the direct kernels with it); `parallel` lets im2col use two threads.
func conv2dForwardImages(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                         _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>, parallel: Bool,
                         epilogue: ConvEpilogue = .none) -> Int {
    if g.winograd { return conv2dForwardWinograd(y, x, weight, bias, g, col: col, parallel: parallel, epilogue: epilogue) }
    if g.imagesPerGEMM > 1 { return conv2dForwardBatched(y, x, weight, bias, g, col: col, parallel: parallel, epilogue: epilogue) }
    var macs = 0
    // With a bias, each output plane starts as its bias and the GEMMs add to it (β = 1): OpenBLAS
    // clears C for β = 0 anyway (a memset of the output), so this saves the separate pass that
    // added the bias, and the whole finishing pass when there is no epilogue.
    let beta: Float = bias == nil ? 0 : 1
    for n in 0..<g.n {
        if let bias {
            let start = { (channels: Range<Int>) in
                for o in channels { (y + (n * g.oc + o) * g.ohw).update(repeating: bias[o], count: g.ohw) }
            }
            if parallel { parallelChunks(g.oc, work: g.oc * g.ohw, start) } else { start(0..<g.oc) }
        }
        for grp in 0..<g.groups {
            let xg = x + (n * g.c + grp * g.cg) * g.h * g.w           // [CG, H, W]
            let yg = y + (n * g.oc + grp * g.ocg) * g.ohw              // [OCG, OH·OW]
            let wg = weight + grp * g.ocg * g.k                        // [OCG, K]
            if g.isPointwise {
                gemm(parallel, .none, .none, g.ocg, g.ohw, g.k, 1, wg, g.k, xg, g.ohw, beta, yg, g.ohw)
            } else {
                for t in stride(from: 0, to: g.oh, by: g.tileRows) {                             // bands of output rows
                    let rows = t..<min(g.oh, t + g.tileRows), cols = rows.count * g.ow         // col: [K, cols]
                    if parallel { parallelIm2col(col, xg, g, rows: rows) } else { im2col(col, xg, g, rows: rows) }
                    gemm(parallel, .none, .none, g.ocg, cols, g.k, 1, wg, g.k, col, cols, beta, yg + t * g.ow, g.ohw)
                }
            }
            macs += g.ocg * g.ohw * g.k
        }
        if !epilogue.isNone {
            // Over the output channels, on every core when the GEMMs were (a batch of one).
            let finish = { (channels: Range<Int>) in
                for o in channels { epilogue.apply(y, image: n, channel: o, g, range: 0..<g.ohw) }
            }
            if parallel { parallelChunks(g.oc, work: g.oc * g.ohw, finish) } else { finish(0..<g.oc) }
        }
    }
    return macs
}

/// Accumulates dx[N, C, H, W] (if wanted), dweight[OC, CG, KH, KW], dbias[OC] (if any) from dy[N, OC, OH, OW]
/// (`usesDirect` geometries by the direct kernels).
func conv2dBackward(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                    _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                    _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) {
    if g.usesDirect { return directConvBackward(dx, dweight, dbias, dy, x, weight, g, col: col) }
    if g.splitsBatch { return conv2dBackwardSplit(dx, dweight, dbias, dy, x, weight, g, col: col) }
    conv2dBackwardImages(dx, dweight, dbias, dy, x, weight, g, col: col, parallel: true)
}

/// The im2col + GEMM backward pass over all of g's images on the calling thread (any geometry);
/// `parallel` lets im2col/col2im use two threads.
func conv2dBackwardImages(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                          _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ g: ConvGeometry, col: UnsafeMutablePointer<Float>, parallel: Bool) {
    if g.imagesPerGEMM > 1 { return conv2dBackwardBatched(dx, dweight, dbias, dy, x, weight, g, col: col, parallel: parallel) }
    for n in 0..<g.n {
        for grp in 0..<g.groups {
            let xg = x + (n * g.c + grp * g.cg) * g.h * g.w            // [CG, H, W]
            let dyg = dy + (n * g.oc + grp * g.ocg) * g.ohw             // [OCG, OH·OW]
            let wg = weight + grp * g.ocg * g.k                         // [OCG, K]
            let dwg = dweight + grp * g.ocg * g.k
            let dxg = dx.map { $0 + (n * g.c + grp * g.cg) * g.h * g.w }
            if g.isPointwise {
                // dW[OCG, K] += dY[OCG, OHW] · xᵀ; dx += Wᵀ[K, OCG] · dY.
                gemm(parallel, .none, .transpose, g.ocg, g.k, g.ohw, 1, dyg, g.ohw, xg, g.ohw, 1, dwg, g.k)
                if let dxg { gemm(parallel, .transpose, .none, g.k, g.ohw, g.ocg, 1, wg, g.k, dyg, g.ohw, 1, dxg, g.ohw) }
                continue
            }
            for t in stride(from: 0, to: g.oh, by: g.tileRows) {                                 // bands of output rows
                let rows = t..<min(g.oh, t + g.tileRows), cols = rows.count * g.ow
                // dW[OCG, K] += dY[OCG, cols] · col[K, cols]ᵀ
                if parallel { parallelIm2col(col, xg, g, rows: rows) } else { im2col(col, xg, g, rows: rows) }
                gemm(parallel, .none, .transpose, g.ocg, g.k, cols, 1, dyg + t * g.ow, g.ohw, col, cols, 1, dwg, g.k)
                guard let dxg else { continue }
                // dcol[K, cols] = Wᵀ[K, OCG] · dY[OCG, cols], then scattered into dx.
                gemm(parallel, .transpose, .none, g.k, cols, g.ocg, 1, wg, g.k, dyg + t * g.ow, g.ohw, 0, col, cols)
                if parallel { parallelCol2im(dxg, col, g, rows: rows) } else { col2im(dxg, col, g, rows: rows) }
            }
        }
        if let dbias {
            for o in 0..<g.oc {
                let d = dy + (n * g.oc + o) * g.ohw
                dbias[o] += sum(d, count: g.ohw)
            }
        }
    }
}

/// sgemm for a kernel that may use every core (`parallel`) or runs on one thread of a split.
@inline(__always)
func gemm(_ parallel: Bool, _ transA: BLAS.Transpose, _ transB: BLAS.Transpose, _ m: Int, _ n: Int, _ k: Int,
          _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
          _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    if parallel { BLAS.parallelSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
    else { BLAS.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) }
}

/// im2col split over channel blocks, one per ConvLens thread (between GEMMs: the other cores are idle then).
func parallelIm2col(_ col: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ g: ConvGeometry, rows: Range<Int>) {
    parallelChunks(g.cg, work: g.k * rows.count * g.ow) { im2col(col, x, g, channels: $0, rows: rows) }
}

/// col2im split over channel blocks (each block writes its own dx channels).
func parallelCol2im(_ dx: UnsafeMutablePointer<Float>, _ dcol: UnsafePointer<Float>, _ g: ConvGeometry, rows: Range<Int>) {
    parallelChunks(g.cg, work: g.k * rows.count * g.ow) { col2im(dx, dcol, g, channels: $0, rows: rows) }
}

/// Tensor-level entry points to the kernels, for benchmarks and tools.
public enum Kernels {
    /// y = conv(x, weight) + bias; returns the MACs performed. `col` needs `g.colCount` floats.
    @discardableResult
    public static func conv2dForward(_ y: Tensor, _ x: Tensor, _ weight: Tensor, bias: Tensor? = nil, _ g: ConvGeometry, col: Tensor) -> Int {
        ConvLensEngine.conv2dForward(y.data, x.data, weight.data, bias.map { UnsafePointer($0.data) }, g, col: col.data)
    }

    /// dx += ∂/∂x, dweight += ∂/∂weight, dbias += ∂/∂bias of Σ y·dy (dx and dbias when given).
    /// `col` needs `g.colCount` floats.
    public static func conv2dBackward(dx: Tensor?, dweight: Tensor, dbias: Tensor? = nil, _ dy: Tensor, _ x: Tensor, _ weight: Tensor,
                                      _ g: ConvGeometry, col: Tensor) {
        ConvLensEngine.conv2dBackward(dx?.data, dweight.data, dbias?.data, dy.data, x.data, weight.data, g, col: col.data)
    }
}
