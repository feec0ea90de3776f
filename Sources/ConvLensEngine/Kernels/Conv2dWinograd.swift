import ConvLensGraph
import Foundation

// 3×3 stride-1 convolutions by Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016): each m×m block of outputs ("tile") comes
// from an α×α input patch, α = m + 2, with α² multiplies per (input, output) channel pair
// instead of 9m². Two tile sizes:
//   F(2×2, 3×3)  α = 4, 16 multiplies for 4 outputs (2.25× fewer); transforms are additions only.
//                Everywhere a convolution runs forward (`winogradEligible`).
//   F(4×4, 3×3)  α = 6, 36 multiplies for 16 outputs (4× fewer); transforms with the points
//                0, ±1, ±2 (Conv2dWinograd4.swift). Only on the eval fast path, whose filters
//                are transformed once per weights (`fastWinogradTile`, InferencePlan.swift).
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
// Tiles are processed a band of tile rows at a time, so V and M stay in cache, eight tiles at
// a time across a row (SIMD), from a zero-padded copy of the image (no bounds tests).

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
    /// "Winograd tiles"): F(4×4) from ~25×25 up (ResNet's 56² and 28²: 10–25% faster than F(2×2));
    /// below that its 6×6 patches leave most of each eight-tile group empty and its bands thin, so
    /// F(2×2), which without a per-call filter transform also pays on 7×7 maps (ResNet's layer4,
    /// 27% faster than im2col) once a thread's images give its GEMMs ≥ 64 tiles.
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
    var winogradBandRows: Int { max(1, min(tilesDown, winogradBudget / max(1, winogradPositions * max(c, oc) * tilesAcross))) }
    var winogradBudget: Int { 128 << 10 }
    /// Images whose tiles share the GEMMs: small feature maps (ResNet's 7×7 is 16 tiles) would
    /// make GEMMs too thin, so whole images are grouped up to ≥ 64 tiles or the band's budget.
    var winogradImages: Int {
        let perImage = tilesDown * tilesAcross
        guard winogradBandRows >= tilesDown else { return 1 }
        return max(1, min(n, max((64 + perImage - 1) / perImage, winogradBudget / max(1, winogradPositions * max(c, oc) * perImage))))
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
                    let (vj, xj) = (v + j * perImage, UnsafePointer(xpad + j * padded))
                    if tile == 4 { winograd4Input(vj, xj, c: c, hp: hp, wp: wp, tw: tw, ty0: ty0, rows: rows, ld: tiles, channels: channels) }
                    else { winogradInput(vj, xj, c: c, hp: hp, wp: wp, tw: tw, ty0: ty0, rows: rows, ld: tiles, channels: channels) }
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
                    let (yj, mj, ej) = (y + (n0 + j) * oc * g.ohw, UnsafePointer(m + j * perImage), epilogue.images(from: n0 + j, g))
                    if tile == 4 {
                        winograd4Output(yj, mj, bias, oc: oc, oh: g.oh, ow: g.ow, tw: tw, ty0: ty0, rows: rows, ld: tiles, outputs: outputs, epilogue: ej, g: g)
                    } else {
                        winogradOutput(yj, mj, bias, oc: oc, oh: g.oh, ow: g.ow, tw: tw, ty0: ty0, rows: rows, ld: tiles, outputs: outputs, epilogue: ej, g: g)
                    }
                }
            }
        }
    }
    return g.macs
}

/// V[16, C, tiles] (rows `ld` apart per (ξ, c)) = Bᵀ·d·B for the tiles of tile rows ty0 ..< ty0+rows.
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
func winogradInput(_ v: UnsafeMutablePointer<Float>, _ xpad: UnsafePointer<Float>, c: Int, hp: Int, wp: Int,
                   tw: Int, ty0: Int, rows: Int, ld: Int, channels: Range<Int>? = nil) {
    typealias V8 = SIMD8<Float>
    let plane = c * ld
    // One patch row for eight tiles, times B: columns 0−2, 1+2, 2−1, 1−3.
    @inline(__always) func rowB(_ p: UnsafePointer<Float>) -> (V8, V8, V8, V8) {
        let a = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        let b = UnsafeRawPointer(p + 2).loadUnaligned(as: SIMD16<Float>.self)
        let (d0, d1, d2, d3) = (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }
    for ci in channels ?? 0..<c {
        let xc = xpad + ci * hp * wp
        for r in 0..<rows {
            let top = xc + 2 * (ty0 + r) * wp
            var t = 0
            while t < tw {
                let p = top + 2 * t
                let (a0, a1, a2, a3) = rowB(p), (b0, b1, b2, b3) = rowB(p + wp)
                let (c0, c1, c2, c3) = rowB(p + 2 * wp), (d0, d1, d2, d3) = rowB(p + 3 * wp)
                let n = min(8, tw - t), base = v + ci * ld + r * tw + t
                @inline(__always) func put(_ x: V8, _ xi: Int) {
                    let dst = base + xi * plane
                    if n == 8 { UnsafeMutableRawPointer(dst).storeBytes(of: x, as: V8.self) } else { for l in 0..<n { dst[l] = x[l] } }
                }
                // Bᵀ down each column j: rows 0−2, 1+2, 2−1, 1−3; position ξ = 4i + j.
                put(a0 - c0, 0); put(a1 - c1, 1); put(a2 - c2, 2); put(a3 - c3, 3)
                put(b0 + c0, 4); put(b1 + c1, 5); put(b2 + c2, 6); put(b3 + c3, 7)
                put(c0 - b0, 8); put(c1 - b1, 9); put(c2 - b2, 10); put(c3 - b3, 11)
                put(b0 - d0, 12); put(b1 - d1, 13); put(b2 - d2, 14); put(b3 - d3, 15)
                t += 8
            }
        }
    }
}

/// y (one image) = Aᵀ·m·A + bias for the tiles of tile rows ty0 ..< ty0+rows, clipped to OH × OW.
/// Aᵀ = [1 1 1 0; 0 1 −1 −1]. Loads of a row's last group may read up to 7 floats past the band
/// (the scratch has room), never past the buffer.
func winogradOutput(_ y: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                    oc: Int, oh: Int, ow: Int, tw: Int, ty0: Int, rows: Int, ld: Int, outputs: Range<Int>? = nil,
                    epilogue: ConvEpilogue = .none, g: ConvGeometry? = nil) {
    typealias V8 = SIMD8<Float>
    let plane = oc * ld
    for o in outputs ?? 0..<oc {
        let b = bias?[o] ?? 0
        let yo = y + o * oh * ow
        for r in 0..<rows {
            let oy = 2 * (ty0 + r)
            var t = 0
            while t < tw {
                let at = m + o * ld + r * tw + t
                @inline(__always) func col(_ j: Int) -> (V8, V8) {     // Aᵀ·m for column j: rows 0+1+2, 1−2−3
                    let m0 = UnsafeRawPointer(at + j * plane).loadUnaligned(as: V8.self)
                    let m1 = UnsafeRawPointer(at + (4 + j) * plane).loadUnaligned(as: V8.self)
                    let m2 = UnsafeRawPointer(at + (8 + j) * plane).loadUnaligned(as: V8.self)
                    let m3 = UnsafeRawPointer(at + (12 + j) * plane).loadUnaligned(as: V8.self)
                    return (m0 + m1 + m2, m1 - m2 - m3)
                }
                let (s00, s10) = col(0), (s01, s11) = col(1), (s02, s12) = col(2), (s03, s13) = col(3)
                let y00 = s00 + s01 + s02 + b, y01 = s01 - s02 - s03 + b
                let y10 = s10 + s11 + s12 + b, y11 = s11 - s12 - s13 + b
                let n = min(8, tw - t)
                for l in 0..<n {
                    let ox = 2 * (t + l)
                    let r0 = yo + oy * ow + ox
                    r0[0] = y00[l]
                    if ox + 1 < ow { r0[1] = y01[l] }
                    if oy + 1 < oh {
                        r0[ow] = y10[l]
                        if ox + 1 < ow { r0[ow + 1] = y11[l] }
                    }
                }
                t += 8
            }
        }
        // The band's output rows of this channel, still in cache: the epilogue (image 0 of `y`).
        if let g, !epilogue.isNone { epilogue.apply(y, image: 0, channel: o, g, range: (2 * ty0 * ow)..<(min(oh, 2 * (ty0 + rows)) * ow)) }
    }
}

