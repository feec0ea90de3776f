import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Float32 storage that several tensors may view (Flatten is a view, as in torch).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    /// Inside an engine pass: the arena's record of this allocation (its slot in the step's trace,
    /// and where in the arena's slab it lives, when it does).
    let ticket: Arena.Ticket?
    /// `zeroed: false` leaves the memory uninitialised: only for kernels that write every element.
    /// Inside an engine pass (`Arena.with`), storage of ≥ `Arena.smallest` floats takes its place
    /// in the arena's planned slab when the plan has one free for it.
    public init(count: Int, zeroed: Bool = true) {
        self.count = count
        let ticket = count >= Arena.smallest ? Arena.current?.allocate(count) : nil
        self.ticket = ticket
        if let slab = ticket?.slab {
            pointer = slab.base + ticket!.offset
        } else {
            // malloc, not allocate(capacity:): a failed allocation is one line on stderr and exit 1
            // (MemoryBudget refuses most runs that cannot fit before they allocate), not Swift's abort.
            let bytes = max(count, 1) * 4
            guard let raw = malloc(bytes) else { MemoryBudget.outOfMemory(bytes) }
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            TensorMemory.allocated(bytes)
        }
        // memset, not initialize(repeating:): the generic loop runs per element in debug builds.
        if zeroed { _ = memset(pointer, 0, max(count, 1) * 4) }
    }
    deinit {
        if let ticket { ticket.arena.died(ticket) }
        if ticket?.slab == nil { free(pointer); TensorMemory.allocated(-max(count, 1) * 4) }
    }
}

/// Live and peak bytes of all tensor storage in the process (for memory benchmarks).
public enum TensorMemory {
    static let counters = Mutex<(live: Int, peak: Int)>((0, 0))
    static func allocated(_ bytes: Int) {
        counters.withLock { c in c.live += bytes; if c.live > c.peak { c.peak = c.live } }
    }
    public static var liveBytes: Int { counters.withLock { $0.live } }
    public static var peakBytes: Int { counters.withLock { $0.peak } }
    /// Starts a new peak measurement from the current live bytes.
    public static func resetPeak() { counters.withLock { $0.peak = $0.live } }
}

/// A dense row-major float32 tensor (NCHW for activations). Copying a `Tensor` shares its storage:
/// use `copy()` for an independent one.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public var shape: [Int]
    public let storage: TensorStorage

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// Uninitialised memory, for kernel outputs that write every element.
    /// Inside an engine pass, a recycled block of the same size (`StoragePool`).
    init(uninitialized shape: [Int]) {
        self.shape = shape
        storage = TensorStorage(count: shape.reduce(1, *), zeroed: false)
    }

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "Tensor: \(values.count) values for shape \(shape)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    init(shape: [Int], storage: TensorStorage) { self.shape = shape; self.storage = storage }

    public var count: Int { shape.reduce(1, *) }
    public var data: UnsafeMutablePointer<Float> { storage.pointer }
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    public subscript(i: Int) -> Float {
        get { data[i] }
        nonmutating set { data[i] = newValue }
    }

    /// The same storage under another shape (torch's view/reshape of a contiguous tensor).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "reshape \(shape) → \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public func fill(_ v: Float) { data.update(repeating: v, count: count) }

    /// y += x, elementwise (gradient accumulation).
    public func add(_ x: Tensor) {
        precondition(x.count == count, "add \(x.shape) to \(shape)")
        let d = data, s = x.data
        for i in 0..<count { d[i] += s[i] }
    }

    public var description: String { "Tensor\(shape)" }
}

/// ‖a − b‖ / ‖b‖, in Double: the tolerance measure the reference data is checked with.
public func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count, "relativeError: \(a.shape) vs \(b.shape)")
    var num = 0.0, den = 0.0
    for i in 0..<a.count {
        let d = Double(a[i]) - Double(b[i])
        num += d * d; den += Double(b[i]) * Double(b[i])
    }
    if den == 0 { return num.squareRoot() }
    return (num / den).squareRoot()
}
