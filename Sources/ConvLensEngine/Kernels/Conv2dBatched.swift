import Foundation

// Conv2d for small feature maps: B = g.imagesPerGEMM images per GEMM, one GEMM per group.
// Scratch layout: col[K, B·OHW] then out[OCG, B·OHW]; image j owns columns j·OHW ..< (j+1)·OHW.
// im2col/col2im of the B images run in parallel (between the GEMMs, so never on top of BLAS's
// own threads).

/// y[N, OC, OH, OW] = conv(x, weight) + bias, B images per sgemm and group. Returns the MACs performed.
func conv2dForwardBatched(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                          _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>, parallel: Bool = true,
                          epilogue: ConvEpilogue = .none) -> Int {
    var macs = 0
    let chw = g.c * g.h * g.w, ochw = g.oc * g.ohw
    for start in stride(from: 0, to: g.n, by: g.imagesPerGEMM) {
        let b = min(g.imagesPerGEMM, g.n - start), ld = b * g.ohw
        let out = col + g.imagesPerGEMM * g.ohw * g.k                        // [OCG, B·OHW]
        for grp in 0..<g.groups {
            let colAddr = Int(bitPattern: col), xAddr = Int(bitPattern: x + grp * g.cg * g.h * g.w)
            let fill: @Sendable (Int) -> Void = { j in
                let c = UnsafeMutablePointer<Float>(bitPattern: colAddr)! + j * g.ohw
                im2col(c, UnsafePointer<Float>(bitPattern: xAddr)! + (start + j) * chw, g, ld: ld)
            }
            if parallel { Workers.perform(iterations: b, fill) } else { for j in 0..<b { fill(j) } }
            gemm(parallel, .none, .none, g.ocg, ld, g.k, 1, weight + grp * g.ocg * g.k, g.k, col, ld, 0, out, ld)
            macs += g.ocg * ld * g.k
            for j in 0..<b {
                let yj = y + (start + j) * ochw + grp * g.ocg * g.ohw
                for o in 0..<g.ocg {
                    let dst = yj + o * g.ohw, src = out + o * ld + j * g.ohw
                    if let bias { let bv = bias[grp * g.ocg + o]; for p in 0..<g.ohw { dst[p] = src[p] + bv } } else { dst.update(from: src, count: g.ohw) }
                    if !epilogue.isNone { epilogue.apply(y, image: start + j, channel: grp * g.ocg + o, g, range: 0..<g.ohw) }
                }
            }
        }
    }
    return macs
}

/// Accumulates dx (if wanted), dweight, dbias (if any), B images per sgemm and group.
func conv2dBackwardBatched(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                           _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           _ g: ConvGeometry, col: UnsafeMutablePointer<Float>, parallel: Bool = true) {
    let chw = g.c * g.h * g.w, ochw = g.oc * g.ohw
    for start in stride(from: 0, to: g.n, by: g.imagesPerGEMM) {
        let b = min(g.imagesPerGEMM, g.n - start), ld = b * g.ohw
        let dyc = col + g.imagesPerGEMM * g.ohw * g.k                       // [OCG, B·OHW]
        for grp in 0..<g.groups {
            let dyg = dy + grp * g.ocg * g.ohw, wg = weight + grp * g.ocg * g.k
            for j in 0..<b {
                for o in 0..<g.ocg { (dyc + o * ld + j * g.ohw).update(from: dyg + (start + j) * ochw + o * g.ohw, count: g.ohw) }
            }
            let colAddr = Int(bitPattern: col), xAddr = Int(bitPattern: x + grp * g.cg * g.h * g.w)
            let fill: @Sendable (Int) -> Void = { j in
                im2col(UnsafeMutablePointer<Float>(bitPattern: colAddr)! + j * g.ohw, UnsafePointer<Float>(bitPattern: xAddr)! + (start + j) * chw, g, ld: ld)
            }
            if parallel { Workers.perform(iterations: b, fill) } else { for j in 0..<b { fill(j) } }
            // dW[OCG, K] += dY[OCG, B·OHW] · col[K, B·OHW]ᵀ
            gemm(parallel, .none, .transpose, g.ocg, g.k, ld, 1, dyc, ld, col, ld, 1, dweight + grp * g.ocg * g.k, g.k)
            if let dbias {
                for o in 0..<g.ocg { dbias[grp * g.ocg + o] += sum(dyc + o * ld, count: ld) }
            }
            guard let dx else { continue }
            // dcol[K, B·OHW] = Wᵀ · dY, scattered back per image.
            gemm(parallel, .transpose, .none, g.k, ld, g.ocg, 1, wg, g.k, dyc, ld, 0, col, ld)
            let dxAddr = Int(bitPattern: dx + grp * g.cg * g.h * g.w)
            let scatter: @Sendable (Int) -> Void = { j in
                col2im(UnsafeMutablePointer<Float>(bitPattern: dxAddr)! + (start + j) * chw, UnsafePointer<Float>(bitPattern: colAddr)! + j * g.ohw, g, ld: ld)
            }
            if parallel { Workers.perform(iterations: b, scatter) } else { for j in 0..<b { scatter(j) } }
        }
    }
}
