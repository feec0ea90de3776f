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
    /// The engine arena the block came from and goes back to when this storage dies (nil: malloc/free).
    let pool: StoragePool?
    /// `zeroed: false` leaves the memory uninitialised: only for kernels that write every element.
    /// Inside an engine pass (`StoragePool.with`), the block is a recycled one of the same size when
    /// the pool has one.
    public init(count: Int, zeroed: Bool = true) {
        self.count = count
        let bytes = max(count, 1) * 4
        let pool = StoragePool.current
        self.pool = pool
        if let block = pool?.take(count) {
            pointer = block
        } else {
            // malloc, not allocate(capacity:): a failed allocation is one line on stderr and exit 1
            // (MemoryBudget refuses most runs that cannot fit before they allocate), not Swift's abort.
            guard let raw = malloc(bytes) else { MemoryBudget.outOfMemory(bytes) }
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            TensorMemory.allocated(bytes)
        }
        // memset, not initialize(repeating:): the generic loop runs per element in debug builds.
        if zeroed { _ = memset(pointer, 0, bytes) }
    }
    deinit {
        if let pool { pool.give(pointer, count) } else { free(pointer); TensorMemory.allocated(-max(count, 1) * 4) }
    }
}

/// An engine's arena: blocks of dead tensors, handed out again for the next allocation of the same
/// size. The engine installs its pool on the calling thread for the length of every pass (`with`),
/// so each tensor a kernel makes there — activation, gradient, saved statistics — takes a recycled
/// block, and gives it back when its last reference goes (the early frees of forward and backward).
/// A training step or an inference pass of a shape makes the same allocations as the one before
/// it, so after the first the engine allocates nothing from the system: no page faults, no
/// zero-filling by the kernel, no munmap and its TLB shootdowns, and its speed no longer depends on
/// what the process's heap went through before (a full benchmark run halved MobileNetV2's training
/// step that way). Blocks idle for a whole step (`endStep`) are freed, so a change of batch size
/// does not keep the old shape's memory.
final class StoragePool: @unchecked Sendable {
    /// A free block: its address (an Int, so the lock's state is Sendable) and the step it came back in.
    private struct Block { let address: Int; let step: Int }
    private let lock = Mutex<(free: [Int: [Block]], step: Int, misses: Int)>(([:], 0, 0))

    func take(_ count: Int) -> UnsafeMutablePointer<Float>? {
        let address: Int? = lock.withLock { s in
            if let a = s.free[count]?.popLast()?.address { return a }
            s.misses += 1
            return nil
        }
        return address.flatMap { UnsafeMutablePointer(bitPattern: $0) }
    }

    /// Allocations the pool could not serve (each one a malloc), since it was made.
    var misses: Int { lock.withLock { $0.misses } }

    /// Takes back a dead storage's block (from any thread).
    func give(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
        let address = Int(bitPattern: pointer)
        lock.withLock { $0.free[count, default: []].append(Block(address: address, step: $0.step)) }
    }

    /// Marks a step boundary and frees the blocks no allocation has wanted since the boundary before.
    func endStep() {
        let idle: [(address: Int, count: Int)] = lock.withLock { s in
            var out: [(address: Int, count: Int)] = []
            for (count, blocks) in s.free where blocks.contains(where: { $0.step < s.step }) {
                for b in blocks where b.step < s.step { out.append((b.address, count)) }
                let keep = blocks.filter { $0.step >= s.step }
                s.free[count] = keep.isEmpty ? nil : keep
            }
            s.step += 1
            return out
        }
        for b in idle { release(b.address, b.count) }
    }

    /// Bytes held for reuse.
    var idleBytes: Int { lock.withLock { $0.free.reduce(0) { $0 + max($1.key, 1) * 4 * $1.value.count } } }

    private func release(_ address: Int, _ count: Int) {
        free(UnsafeMutableRawPointer(bitPattern: address))
        TensorMemory.allocated(-max(count, 1) * 4)
    }

    deinit {
        for (count, blocks) in lock.withLock({ $0.free }) { for b in blocks { release(b.address, count) } }
    }

    /// Runs `body` with this pool serving the calling thread's allocations.
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
