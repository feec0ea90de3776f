import Foundation

/// Splits 0..<count into two halves run on two threads when there is enough work (memory-bound
/// kernels between GEMMs, when BLAS's own threads are idle: never more threads than cores).
func parallelHalves(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
    guard count >= 2, work >= 1 << 16, BLAS.availableCores >= 2 else { return body(0..<count) }
    withoutActuallyEscaping(body) { f in
        let box = UnsafeSendableBox(f)
        DispatchQueue.concurrentPerform(iterations: 2) { part in box.value((part * count / 2)..<((part + 1) * count / 2)) }
    }
}

struct UnsafeSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}
