import CKernels
import ConvLensGraph
import Foundation

// 3×3 stride-1 convolutions by Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): each m×m block of outputs ("tile") comes
// from an α×α input patch, α = m + 2, with α² multiplies per (input, output) channel pair
// instead of 9m². Two tile sizes:
//   F(2×2, 3×3)  α = 4, 16 multiplies for 4 outputs (2.25× fewer); transforms are additions only.
//                Everywhere a convolution runs forward (`winogradEligible`).
//   F(4×4, 3×3)  α = 6, 36 multiplies for 16 outputs (4× fewer); interpolation points 0, ±1,
//                ±2 and ∞ (Lavin & Gray's matrices, below). Only on the eval fast path, whose
//                filters are transformed once per weights (`fastWinogradTile`, InferencePlan.swift).
//
//   F(2×2):  Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//            Aᵀ = [1 1 1 0; 0 1 −1 −1]
//   F(4×4):  Bᵀ = [4  0 −5  0 1 0;     G = [ 1/4     0     0;     Aᵀ = [1 1  1 1  1 0;
//                  0 −4 −4  1 1 0;          −1/6  −1/6  −1/6;           0 1 −1 2 −2 0;
//                  0  4 −4 −1 1 0;          −1/6   1/6  −1/6;           0 1  1 4  4 0;
//                  0 −2 −1  2 1 0;           1/24  1/12  1/6;           0 1 −1 8 −8 1]
//                  0  2 −1 −2 1 0;           1/24 −1/12  1/6;
//                  0  4  0 −5 0 1]           0     0     1]
//
//   U = G·g·Gᵀ     per (oc, c): the 3×3 filter g as an α×α matrix              [α², OC, C]
//   V = Bᵀ·d·B     per (c, tile): the α×α input patch d                        [α², C, T]
//   M_ξ = U_ξ·V_ξ  α² GEMMs, one per position ξ of the α×α                     [α², OC, T]
//   Y = Aᵀ·m·A     per (oc, tile): the m×m outputs from the α×α m              + bias
//
// Float32 error: F(2×2) stays within a few ulps of the direct sum; F(4×4)'s transforms have
// entries up to 8 (Aᵀ) and 5 (Bᵀ), which costs about a decimal digit: both are tested against
// im2col at 1e-5 relative per convolution and 1e-5 over whole models (WinogradTests, InferencePlanTests).
// Used for the forward pass only; backward runs im2col (its GEMMs need the columns anyway).
// Tiles are processed a band of tile rows at a time, so V and M stay in cache, from a zero-padded
// copy of the image (no bounds tests). The input and output transforms (V and Y) are C
// (CKernels/winograd.c): eight tiles of a row per vector, whose stride-2 and stride-4
// (de)interleaves Swift's SIMD types compile to scalar inserts and extracts.

extension ConvGeometry {
    /// The shapes Winograd handles: 3×3, stride 1, no dilation, one group, enough channels for
    /// the GEMMs to be worth their transforms.
    var winogradShape: Bool {
        kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && groups == 1 && c >= 32 && oc >= 32
    }
    /// F(2×2, 3×3) applies: a feature map of at least 36 tiles (~12×12). On smaller maps
    /// (ResNet's 7×7 layer4: 16 tiles, 30% of them padding) the filter transform U, 16·OC·C
    /// floats per call, costs more than the multiplies saved: measured slower than im2col there.
    public var winogradEligible: Bool { winogradShape && (oh + 1) / 2 * ((ow + 1) / 2) >= 36 }
    /// The tile the eval fast path uses, whose filters are transformed once per weights (nil:
    /// im2col). Measured per layer, one thread's share of batch 8 and batch 1 (Benchmarks/README.md,
    /// "Winograd tiles"): F(4×4) from ~25×25 up (ResNet's 56² and 28²: a third less time than F(2×2)
    /// on one thread's share, 2.3–2.7× as fast as im2col); below that its 6×6 patches leave half or
    /// more of each eight-tile group empty and its bands thin, so F(2×2), which without a per-call
    /// filter transform also pays on 7×7 maps (ResNet's layer4, ~20% faster than im2col) once a
    /// thread's images give its GEMMs ≥ 64 tiles.
    public var fastWinogradTile: Int? {
        guard winogradShape else { return nil }
        if (oh + 3) / 4 >= 7 && (ow + 3) / 4 >= 7 { return 4 }
        let tiles = (oh + 1) / 2 * ((ow + 1) / 2)
        return winogradEligible || n / batchParts * tiles >= 64 ? 2 : nil
    }
    /// The α×α patch of a tile, and its α² positions (GEMMs).
    var winogradPatch: Int { winogradTile + 2 }
    var winogradPositions: Int { winogradPatch * winogradPatch }
    /// Tiles across and down.
    var tilesAcross: Int { (ow + winogradTile - 1) / winogradTile }
    var tilesDown: Int { (oh + winogradTile - 1) / winogradTile }
    /// Width of the padded input copy: m columns per tile, the patch's two extra, room for the
    /// loads of the last group of eight tiles (16 floats at +2 for m = 2, 32 at +4 for m = 4).
    var winogradPaddedWidth: Int { winogradTile * ((tilesAcross + 7) / 8 * 8) + (winogradTile == 2 ? 18 : 36) }
    var winogradPaddedHeight: Int { winogradTile * tilesDown + 2 }
    /// Tile rows per band: V [α², C, band·tiles across] within ~128K floats.
    var winogradBandRows: Int { max(1, min(tilesDown, Self.winogradBudget / max(1, winogradPositions * max(c, oc) * tilesAcross))) }
    /// Floats of V (and of M) per band: 512 KB, half a core's L2 here (F(4×4) at 28² measured
    /// 15–40% slower with 256K–512K).
    static let winogradBudget = 128 << 10
    /// Images whose tiles share the GEMMs: small feature maps (ResNet's 7×7 is 16 tiles) would
    /// make GEMMs too thin, so whole images are grouped up to ≥ 64 tiles or the band's budget.
    var winogradImages: Int {
        let perImage = tilesDown * tilesAcross
        guard winogradBandRows >= tilesDown else { return 1 }
        return max(1, min(n, max((64 + perImage - 1) / perImage, Self.winogradBudget / max(1, winogradPositions * max(c, oc) * perImage))))
    }
    /// Scratch floats for one thread: the padded images, V and M of a band, and U unless the
    /// caller passes it (`winogradFiltersGiven`).
    var winogradColCount: Int {
        let images = winogradImages, tiles = images * winogradBandRows * tilesAcross, p = winogradPositions
        return images * c * winogradPaddedHeight * winogradPaddedWidth + p * c * tiles + p * oc * tiles + 8 + (winogradFiltersGiven ? 0 : p * oc * c)
    }
}

/// U[α², OC, C] = G·g·Gᵀ for every 3×3 filter g of weight[OC, C, 3, 3], for tile size `tile`.
func winogradFilters(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, oc: Int, c: Int, tile: Int,
                     outputs: Range<Int>? = nil) {
    if tile == 4 { winograd4Filters(u, weight, oc: oc, c: c, outputs: outputs) } else { winograd2Filters(u, weight, oc: oc, c: c, outputs: outputs) }
}

/// F(2×2, 3×3)'s U[16, OC, C]. G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
func winograd2Filters(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, oc: Int, c: Int, outputs: Range<Int>? = nil) {
    let plane = oc * c
    @inline(__always) func g4(_ a: Float, _ b: Float, _ d: Float) -> (Float, Float, Float, Float) {
        (a, 0.5 * (a + b + d), 0.5 * (a - b + d), d)
    }
    for o in outputs ?? 0..<oc {
        for ci in 0..<c {
            let g = weight + (o * c + ci) * 9
            // G·g, column by column: t_j = G·(g0j, g1j, g2j).
            let c0 = g4(g[0], g[3], g[6]), c1 = g4(g[1], g[4], g[7]), c2 = g4(g[2], g[5], g[8])
            // Each row i of G·g (c0.i, c1.i, c2.i) times Gᵀ.
            let dst = u + o * c + ci
            @inline(__always) func put(_ i: Int, _ r: (Float, Float, Float, Float)) {
                dst[(i * 4) * plane] = r.0; dst[(i * 4 + 1) * plane] = r.1; dst[(i * 4 + 2) * plane] = r.2; dst[(i * 4 + 3) * plane] = r.3
            }
            put(0, g4(c0.0, c1.0, c2.0)); put(1, g4(c0.1, c1.1, c2.1)); put(2, g4(c0.2, c1.2, c2.2)); put(3, g4(c0.3, c1.3, c2.3))
        }
    }
}

/// F(4×4, 3×3)'s U[36, OC, C] = G·g·Gᵀ for every 3×3 filter g of weight[OC, C, 3, 3].
func winograd4Filters(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, oc: Int, c: Int, outputs: Range<Int>? = nil) {
    let plane = oc * c
    typealias Six = (Float, Float, Float, Float, Float, Float)
    @inline(__always) func g6(_ a: Float, _ b: Float, _ d: Float) -> Six {
        let q = 0.25 * a + d
        return (0.25 * a, -(a + b + d) / 6, -(a - b + d) / 6, (q + 0.5 * b) / 6, (q - 0.5 * b) / 6, d)
    }
    for o in outputs ?? 0..<oc {
        for ci in 0..<c {
            let g = weight + (o * c + ci) * 9
            // G·g, column by column; then each row i of G·g times Gᵀ.
            let c0 = g6(g[0], g[3], g[6]), c1 = g6(g[1], g[4], g[7]), c2 = g6(g[2], g[5], g[8])
            let dst = u + o * c + ci
            @inline(__always) func put(_ i: Int, _ r: Six) {
                let d = dst + 6 * i * plane
                d[0] = r.0; d[plane] = r.1; d[2 * plane] = r.2; d[3 * plane] = r.3; d[4 * plane] = r.4; d[5 * plane] = r.5
            }
            put(0, g6(c0.0, c1.0, c2.0)); put(1, g6(c0.1, c1.1, c2.1)); put(2, g6(c0.2, c1.2, c2.2))
            put(3, g6(c0.3, c1.3, c2.3)); put(4, g6(c0.4, c1.4, c2.4)); put(5, g6(c0.5, c1.5, c2.5))
        }
    }
}

/// y[N, OC, OH, OW] = conv(x, weight) + bias for g's images, by F(m×m, 3×3), m = g.winogradTile. `parallel` lets
/// the GEMMs use every core (a batch of one); otherwise the caller's thread does everything.
/// Returns the multiply-accumulates of the direct convolution it stands for (the model's MACs).
func conv2dForwardWinograd(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>, parallel: Bool,
                           epilogue: ConvEpilogue = .none) -> Int {
    let (c, oc, tw, th) = (g.c, g.oc, g.tilesAcross, g.tilesDown)
    let wp = g.winogradPaddedWidth, hp = g.winogradPaddedHeight, padded = c * hp * wp
    let band = g.winogradBandRows, group = g.winogradImages, positions = g.winogradPositions, tile = g.winogradTile
    let xpad = col, v = xpad + group * padded, m = v + positions * c * group * band * tw
    let uScratch = m + positions * oc * group * band * tw + 8
    // With `parallel` (a batch of one) the transforms split over channels too, not only the GEMMs.
    func chunks(_ count: Int, _ body: (Range<Int>) -> Void) {
        if parallel { parallelChunks(count, work: 1 << 16, body) } else { body(0..<count) }
    }
    let u: UnsafePointer<Float>
    if let cached = epilogue.transformedFilters { u = cached } else {
        precondition(!g.winogradFiltersGiven, "Winograd: transformed filters promised but not given")
        chunks(oc) { winogradFilters(uScratch, weight, oc: oc, c: c, tile: tile, outputs: $0) }
        u = UnsafePointer(uScratch)
    }
    xpad.update(repeating: 0, count: group * padded)
    for n0 in stride(from: 0, to: g.n, by: group) {
        let images = min(group, g.n - n0)
        // The zero-padded images: input (i, j) at padded (i + ph, j + pw).
        chunks(c) { channels in
            for j in 0..<images {
                let xn = x + (n0 + j) * c * g.h * g.w, xp = xpad + j * padded
                for ci in channels {
                    for i in 0..<g.h where i + g.ph < hp {
                        (xp + ci * hp * wp + (i + g.ph) * wp + g.pw).update(from: xn + (ci * g.h + i) * g.w, count: min(g.w, wp - g.pw))
                    }
                }
            }
        }
        for ty0 in stride(from: 0, to: th, by: band) {
            let rows = min(band, th - ty0), perImage = rows * tw, tiles = images * perImage
            chunks(c) { channels in
                for j in 0..<images {
                    convlens_winograd_input(Int32(tile), v + j * perImage, xpad + j * padded, c, hp, wp, tw, ty0, rows, tiles,
                                            channels.lowerBound, channels.upperBound)
                }
            }
            // The α² GEMMs shared among the threads whole (a batch of one): one hand-off
            // instead of α², and no GEMM cut below its kernels' panel widths.
            chunks(positions) { xis in
                for xi in xis {
                    gemm(false, .none, .none, oc, tiles, c, 1, u + xi * oc * c, c, v + xi * c * tiles, tiles, 0, m + xi * oc * tiles, tiles)
                }
            }
            chunks(oc) { outputs in
                for j in 0..<images {
                    let (yj, mj, ej) = (y + (n0 + j) * oc * g.ohw, m + j * perImage, epilogue.images(from: n0 + j, g))
                    for o in outputs {
                        convlens_winograd_output(Int32(tile), yj, mj, bias?[o] ?? 0, o, oc, g.oh, g.ow, tw, ty0, rows, tiles)
                        // The band's output rows of this channel, still in cache: the epilogue (image 0 of `yj`).
                        if !ej.isNone { ej.apply(yj, image: 0, channel: o, g, range: (tile * ty0 * g.ow)..<(min(g.oh, tile * (ty0 + rows)) * g.ow)) }
                    }
                }
            }
        }
    }
    return g.macs
}
