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
    /// `zeroed: false` leaves the memory uninitialised: only for kernels that write every element.
    public init(count: Int, zeroed: Bool = true) {
        self.count = count
        // malloc, not allocate(capacity:): a failed allocation is one line on stderr and exit 1
        // (MemoryBudget refuses most runs that cannot fit before they allocate), not Swift's abort.
        let bytes = max(count, 1) * 4
        guard let raw = malloc(bytes) else { MemoryBudget.outOfMemory(bytes) }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        // memset, not initialize(repeating:): the generic loop runs per element in debug builds.
        if zeroed { _ = memset(pointer, 0, bytes) }
        TensorMemory.allocated(bytes)
    }
    deinit { free(pointer); TensorMemory.allocated(-max(count, 1) * 4) }
}

/// Storage of freed activations, handed out again for the next allocation of the same size: the
/// eval fast path's activation arena (Engine.forwardInference). The engine installs its pool on
/// the calling thread for the length of a pass (`with`), so every `Tensor(uninitialized:)` a
/// kernel makes there takes a recycled block, and returns each activation whose storage nothing
/// else holds once its last consumer has run. After the first pass of a shape, a pass allocates
/// nothing: no page faults, no zero-filling by the kernel, no munmap.
final class StoragePool: @unchecked Sendable {
    private var free: [Int: [TensorStorage]] = [:]

    func take(_ count: Int) -> TensorStorage? { free[count]?.popLast() }

    /// Keeps `storage` for reuse when nothing else refers to it (a view, the caller's tensor).
    func recycle(_ storage: inout TensorStorage) {
        if isKnownUniquelyReferenced(&storage) { free[storage.count, default: []].append(storage) }
    }

    /// Runs `body` with this pool serving the calling thread's uninitialised allocations.
    func with<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let previous = pthread_getspecific(Self.key)
        pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(Self.key, previous) }
        return try body()
    }

    /// The pool installed on the calling thread, if any.
    static var current: StoragePool? {
        pthread_getspecific(key).map { Unmanaged<StoragePool>.fromOpaque($0).takeUnretainedValue() }
    }
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
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
    /// Inside an eval fast-path pass, a recycled block of the same size (`StoragePool`).
    init(uninitialized shape: [Int]) {
        self.shape = shape
        let count = shape.reduce(1, *)
        storage = StoragePool.current?.take(count) ?? TensorStorage(count: count, zeroed: false)
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
