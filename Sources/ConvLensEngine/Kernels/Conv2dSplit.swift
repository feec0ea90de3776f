import Foundation

// Forward convolution with the batch split over the two cores: each thread runs im2col and a
// single-threaded sgemm on its own images, with its own share of the scratch buffer. This avoids
// the hand-offs of "im2col on two threads, then sgemm on BLAS's two threads" (BLAS's workers spin
// while im2col runs, and the two phases wait for each other), and keeps each thread's column
// matrix in its own cache.

extension ConvGeometry {
    /// The passes split the batch (N ≥ 2 and ConvLens runs two threads).
    public var splitsBatch: Bool { n >= 2 && BLAS.threads >= 2 }

    /// The geometry of images `r` alone.
    func images(_ r: Range<Int>) -> ConvGeometry {
        var h = self
        h.n = r.count
        h.imagesPerGEMM = Self.imagesPerGEMM(n: h.n, groups: groups, ohw: ohw, k: k)
        return h
    }
}

/// y = conv(x, weight) + bias with images [0, ⌈N/2⌉) on one thread and the rest on another;
/// OpenBLAS runs one thread per call. `col` holds g.colCount floats. Returns the MACs.
func conv2dForwardSplit(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                        _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) -> Int {
    let half = (g.n + 1) / 2
    let share = g.images(0..<half).serialColCount
    let addrs = (y: Int(bitPattern: y), x: Int(bitPattern: x), w: Int(bitPattern: weight),
                 b: Int(bitPattern: bias), col: Int(bitPattern: col))
    DispatchQueue.concurrentPerform(iterations: 2) { t in
        let r = t == 0 ? 0..<half : half..<g.n
        guard !r.isEmpty else { return }
        let tg = g.images(r)
        _ = conv2dForwardImages(UnsafeMutablePointer<Float>(bitPattern: addrs.y)! + r.lowerBound * g.oc * g.ohw,
                                UnsafePointer<Float>(bitPattern: addrs.x)! + r.lowerBound * g.c * g.h * g.w,
                                UnsafePointer<Float>(bitPattern: addrs.w)!, UnsafePointer<Float>(bitPattern: addrs.b),
                                tg, col: UnsafeMutablePointer<Float>(bitPattern: addrs.col)! + t * share, parallel: false)
    }
    return g.macs
}

/// The backward pass with the same split: dx of each image is written by its own thread; the
/// second thread accumulates dweight and dbias into scratch (after the two column shares in `col`:
/// [OC, K] then [OC]), added to the first thread's afterwards.
func conv2dBackwardSplit(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                         _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                         _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) {
    let half = (g.n + 1) / 2
    let share = g.images(0..<half).serialColCount
    let dw2 = col + 2 * share, db2 = dw2 + g.oc * g.k
    dw2.update(repeating: 0, count: g.oc * g.k + g.oc)
    let addrs = (dx: Int(bitPattern: dx), dw: Int(bitPattern: dweight), db: Int(bitPattern: dbias), dy: Int(bitPattern: dy),
                 x: Int(bitPattern: x), w: Int(bitPattern: weight), col: Int(bitPattern: col), dw2: Int(bitPattern: dw2), db2: Int(bitPattern: db2))
    DispatchQueue.concurrentPerform(iterations: 2) { t in
        let r = t == 0 ? 0..<half : half..<g.n
        guard !r.isEmpty else { return }
        conv2dBackwardImages(UnsafeMutablePointer<Float>(bitPattern: addrs.dx).map { $0 + r.lowerBound * g.c * g.h * g.w },
                             UnsafeMutablePointer<Float>(bitPattern: t == 0 ? addrs.dw : addrs.dw2)!,
                             addrs.db == 0 ? nil : UnsafeMutablePointer<Float>(bitPattern: t == 0 ? addrs.db : addrs.db2),
                             UnsafePointer<Float>(bitPattern: addrs.dy)! + r.lowerBound * g.oc * g.ohw,
                             UnsafePointer<Float>(bitPattern: addrs.x)! + r.lowerBound * g.c * g.h * g.w,
                             UnsafePointer<Float>(bitPattern: addrs.w)!, g.images(r),
                             col: UnsafeMutablePointer<Float>(bitPattern: addrs.col)! + t * share, parallel: false)
    }
    accumulate(dweight, dw2, count: g.oc * g.k)
    if let dbias { accumulate(dbias, db2, count: g.oc) }
}
