import Foundation

// Elementwise and structural kernels. Legend: E elements.

/// ReLU of one element (the ReLU node's kernel and the convolution epilogue share it).
@inline(__always)
func reluValue(_ x: Float) -> Float { x > 0 ? x : 0 }

/// y[E] = max(x, 0).
func reluForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = reluValue(x[i]) }
}

/// dx[E] += dy where y > 0 (torch's threshold_backward on the output).
func reluBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dx[i] += y[i] > 0 ? dy[i] : 0 }        // branch-free: vectorises
}

/// dy[E] ← dy where y > 0, else 0 (ReLU's backward in place).
func reluMask(_ dy: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dy[i] = y[i] > 0 ? dy[i] : 0 }
}

/// Training-mode dropout: mask[E] = 1/(1−p) with probability 1−p, else 0; y = x·mask.
func dropoutForward(_ y: UnsafeMutablePointer<Float>, _ mask: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                    count: Int, p: Double, rng: inout RandomSource) {
    let keep: Float = p >= 1 ? 0 : Float(1 / (1 - p))
    for i in 0..<count {
        mask[i] = rng.uniform() >= p ? keep : 0
        y[i] = x[i] * mask[i]
    }
}

/// dx[E] += dy·mask.
func dropoutBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ mask: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dx[i] += dy[i] * mask[i] }
}

/// dst[E] += src.
func accumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { dst[i] += src[i] }
}

/// y[E] = a + b (one pass instead of copy then accumulate).
func sum(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = a[i] + b[i] }
}

/// Σ x[E], eight running sums at a time (a single running sum is one dependent add per element:
/// float addition is not reassociated by the compiler).
func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var acc = SIMD8<Float>(), i = 0
    while i &+ 8 <= count { acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self); i &+= 8 }
    var s = acc.sum()
    while i < count { s += x[i]; i &+= 1 }
    return s
}

/// torch.cat along `dim`: y[outer, Σ d_i · inner] from x_i[outer, d_i · inner], where outer is the
/// product of the dimensions before `dim` and inner of those after.
func concatForward(_ y: UnsafeMutablePointer<Float>, _ xs: [UnsafePointer<Float>], sizes: [Int], outer: Int, inner: Int) {
    let total = sizes.reduce(0, +) * inner
    var at = 0
    for (x, d) in zip(xs, sizes) {
        let chunk = d * inner
        for o in 0..<outer { (y + o * total + at).update(from: x + o * chunk, count: chunk) }
        at += chunk
    }
}

/// dx_i += the slice of dy that x_i was copied to.
func concatBackward(_ dxs: [UnsafeMutablePointer<Float>?], _ dy: UnsafePointer<Float>, sizes: [Int], outer: Int, inner: Int) {
    let total = sizes.reduce(0, +) * inner
    var at = 0
    for (dx, d) in zip(dxs, sizes) {
        let chunk = d * inner
        if let dx { for o in 0..<outer { accumulate(dx + o * chunk, dy + o * total + at, count: chunk) } }
        at += chunk
    }
}


/// Splits 0..<count into one contiguous chunk per ConvLens thread when there is enough work
/// (memory-bound kernels between GEMMs; OpenBLAS runs no threads of its own: never more threads
/// than cores).
func parallelChunks(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    parallelParts(count, work: work) { _, chunk in body(chunk) }
}

/// `parallelChunks` that also passes each chunk's part number (0 ..< BLAS.threads; 0 when the
/// work runs on the calling thread alone), so that each part can use its own share of a scratch buffer.
func parallelParts(_ count: Int, work: Int, _ body: (_ part: Int, _ chunk: Range<Int>) -> Void) {
    let parts = min(BLAS.threads, count)
    guard parts >= 2, work >= 1 << 16 else { return body(0, 0..<count) }
    Workers.perform(iterations: parts) { part in body(part, (part * count / parts)..<((part + 1) * count / parts)) }
}

struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
