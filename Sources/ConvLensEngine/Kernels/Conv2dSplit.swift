import Foundation

// Convolution with the batch split over the cores: each thread runs im2col and a single-threaded
// sgemm on its own images, with its own share of the scratch buffer. This avoids the hand-offs
// of "im2col on all threads, then sgemm on BLAS's threads" (the two phases wait for each other)
// and keeps each thread's column matrix in its own cache.

extension ConvGeometry {
    /// Threads the passes split the batch over: one per image, up to ConvLens's thread count.
    public var batchParts: Int { max(1, min(n, BLAS.threads)) }
    /// The passes split the batch (N ≥ 2 and ConvLens runs two or more threads; the direct
    /// kernels split their planes over the threads instead).
    public var splitsBatch: Bool { batchParts >= 2 && !usesDirect }
    /// The images of part t (⌈N/parts⌉ each; the last parts may be short or empty).
    func part(_ t: Int) -> Range<Int> {
        let per = (n + batchParts - 1) / batchParts
        return min(n, t * per)..<min(n, (t + 1) * per)
    }
    /// Scratch floats of one part's share.
    var partColCount: Int { images(0..<((n + batchParts - 1) / batchParts)).serialColCount }

    /// The geometry of images `r` alone.
    func images(_ r: Range<Int>) -> ConvGeometry {
        var h = self
        h.n = r.count
        h.imagesPerGEMM = Self.imagesPerGEMM(n: h.n, ohw: ohw, k: k)
        return h
    }
}

/// y = conv(x, weight) + bias with each part of the batch on its own thread; OpenBLAS runs one
/// thread per call. `col` holds g.colCount floats. Returns the MACs.
func conv2dForwardSplit(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                        _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>,
                        epilogue: ConvEpilogue = .none) -> Int {
    let share = g.partColCount
    let addrs = (y: Int(bitPattern: y), x: Int(bitPattern: x), w: Int(bitPattern: weight),
                 b: Int(bitPattern: bias), col: Int(bitPattern: col))
    Workers.perform(iterations: g.batchParts) { t in
        let r = g.part(t)
        guard !r.isEmpty else { return }
        _ = conv2dForwardImages(UnsafeMutablePointer<Float>(bitPattern: addrs.y)! + r.lowerBound * g.oc * g.ohw,
                                UnsafePointer<Float>(bitPattern: addrs.x)! + r.lowerBound * g.c * g.h * g.w,
                                UnsafePointer<Float>(bitPattern: addrs.w)!, UnsafePointer<Float>(bitPattern: addrs.b),
                                g.images(r), col: UnsafeMutablePointer<Float>(bitPattern: addrs.col)! + t * share, parallel: false,
                                epilogue: epilogue.images(from: r.lowerBound, g))
    }
    return g.macs
}

/// The backward pass with the same split: dx of each image is written by its own thread; parts
/// after the first accumulate dweight and dbias into scratch (after the column shares in `col`:
/// [OC, K] then [OC] per part), added to the first part's afterwards.
func conv2dBackwardSplit(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                         _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                         _ g: ConvGeometry, col: UnsafeMutablePointer<Float>) {
    let parts = g.batchParts, share = g.partColCount, own = g.oc * g.k + g.oc
    let extra = col + parts * share                 // part t ≥ 1: dweight at extra + (t−1)·own, dbias after it
    extra.update(repeating: 0, count: (parts - 1) * own)
    let addrs = (dx: Int(bitPattern: dx), dw: Int(bitPattern: dweight), db: Int(bitPattern: dbias), dy: Int(bitPattern: dy),
                 x: Int(bitPattern: x), w: Int(bitPattern: weight), col: Int(bitPattern: col), extra: Int(bitPattern: extra))
    Workers.perform(iterations: parts) { t in
        let r = g.part(t)
        guard !r.isEmpty else { return }
        let scratch = UnsafeMutablePointer<Float>(bitPattern: addrs.extra)! + (t - 1) * own
        let dw = t == 0 ? UnsafeMutablePointer<Float>(bitPattern: addrs.dw)! : scratch
        let db = addrs.db == 0 ? nil : (t == 0 ? UnsafeMutablePointer<Float>(bitPattern: addrs.db) : scratch + g.oc * g.k)
        conv2dBackwardImages(UnsafeMutablePointer<Float>(bitPattern: addrs.dx).map { $0 + r.lowerBound * g.c * g.h * g.w },
                             dw, db,
                             UnsafePointer<Float>(bitPattern: addrs.dy)! + r.lowerBound * g.oc * g.ohw,
                             UnsafePointer<Float>(bitPattern: addrs.x)! + r.lowerBound * g.c * g.h * g.w,
                             UnsafePointer<Float>(bitPattern: addrs.w)!, g.images(r),
                             col: UnsafeMutablePointer<Float>(bitPattern: addrs.col)! + t * share, parallel: false)
    }
    for t in 1..<parts {
        let scratch = extra + (t - 1) * own
        accumulate(dweight, scratch, count: g.oc * g.k)
        if let dbias { accumulate(dbias, scratch + g.oc * g.k, count: g.oc) }
    }
}
