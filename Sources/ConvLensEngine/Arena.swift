import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if os(Linux)
/// glibc's malloc_trim (malloc.h is not in the Glibc module): returns free heap memory to the system.
@_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// An engine's activation arena, planned from liveness: one slab per graph and input shape, in
/// which every large tensor of a pass — activation, gradient, saved statistics, in train and eval
/// mode — has an offset planned once.
///
/// The engine installs its arena on the calling thread for the length of every pass (`with`) and
/// marks each step (`endStep`, at every forward). During a step the arena records the trace of
/// its large allocations: their sizes in order, and when each was made and died on the step's
/// event clock. At the step's end, when it has no plan or the step did not follow it, it plans
/// from the trace: greedy by size (the largest tensor first, each at the lowest offset clear of
/// every placed tensor alive at the same time), so the slab is about the step's peak of live
/// bytes. The next steps make the same allocations in the same order, and the k-th takes its
/// planned offset — once that range is clear of every tensor still alive in the slab (a tensor
/// the caller kept from an earlier step, say); otherwise, or once a step stops following the
/// plan, the allocation is an ordinary malloc. So a slab range is never handed out twice, and
/// after the first step of a shape a pass allocates nothing from the system: no page faults, no
/// zero-filling by the kernel, no munmap and its TLB shootdowns, and its speed no longer depends
/// on what the process's heap went through before (a full benchmark run halved MobileNetV2's
/// training step that way). Small tensors (under 64 KB) stay with malloc, whose bins serve them
/// without the system.
final class Arena: @unchecked Sendable {
    /// Floats below which tensors are not planned.
    static let smallest = 16_384
    /// Planned sizes are rounded up to whole cache lines (16 floats).
    static let alignment = 16

    /// The planned memory: freed when the plan is replaced and the last tensor in it has died.
    final class Slab: @unchecked Sendable {
        let base: UnsafeMutablePointer<Float>
        let floats: Int
        init(floats: Int) {
            self.floats = floats
            let bytes = max(floats, 1) * 4
            guard let raw = malloc(bytes) else { MemoryBudget.outOfMemory(bytes) }
            base = raw.bindMemory(to: Float.self, capacity: max(floats, 1))
            TensorMemory.allocated(bytes)
        }
        deinit { free(base); TensorMemory.allocated(-max(floats, 1) * 4) }
    }

    /// One allocation made in a pass: its step and slot in that step's trace, and its slab range.
    struct Ticket: @unchecked Sendable {
        let arena: Arena
        let step: Int
        let slot: Int
        let slab: Slab?
        let offset: Int
    }

    /// A step's large allocations in order: rounded size, and birth and death on the step's clock
    /// (`Int.max`: alive at the step's end).
    struct Trace {
        var sizes: [Int] = []
        var born: [Int] = []
        var died: [Int] = []
    }

    struct Plan {
        let slab: Slab
        let sizes: [Int]
        let offsets: [Int]
        /// Ranges of the slab in use, sorted by start (they never overlap).
        var inUse: [(start: Int, end: Int)] = []

        /// The index of the first range in use that ends after `offset`.
        func firstEnding(after offset: Int) -> Int {
            var (lo, hi) = (0, inUse.count)
            while lo < hi { let m = (lo + hi) / 2; if inUse[m].end <= offset { lo = m + 1 } else { hi = m } }
            return lo
        }
        /// Claims [offset, offset + size) when no tensor in the slab overlaps it.
        mutating func claim(_ offset: Int, _ size: Int) -> Bool {
            let i = firstEnding(after: offset)
            if i < inUse.count && inUse[i].start < offset + size { return false }
            inUse.insert((offset, offset + size), at: i)
            return true
        }
        mutating func release(_ offset: Int) {
            let i = firstEnding(after: offset)
            if i < inUse.count && inUse[i].start == offset { inUse.remove(at: i) }
        }
    }

    private struct State {
        var plan: Plan?
        var trace = Trace()
        var step = 0
        var clock = 0
        /// The step stopped following the plan (a size or count that differs).
        var deviated = false
        var misses = 0
        var plans = 0
    }
    private let state = Mutex<State>(State())

    /// Records an allocation of `count` floats in the step's trace and gives it its planned range when it can.
    func allocate(_ count: Int) -> Ticket {
        let size = (count + Self.alignment - 1) / Self.alignment * Self.alignment
        return state.withLock { s in
            let k = s.trace.sizes.count
            s.trace.sizes.append(size); s.trace.born.append(s.clock); s.trace.died.append(.max)
            s.clock += 1
            if !s.deviated, s.plan != nil {
                if k < s.plan!.sizes.count, s.plan!.sizes[k] == size {
                    let offset = s.plan!.offsets[k]
                    if s.plan!.claim(offset, size) {
                        return Ticket(arena: self, step: s.step, slot: k, slab: s.plan!.slab, offset: offset)
                    }
                } else {
                    // Off the plan (another mode or shape): let its slab go as soon as the tensors
                    // in it die, rather than hold it beside this step's mallocs (a train step after
                    // an evaluation would otherwise peak at two steps' memory).
                    s.deviated = true
                    s.plan = nil
                }
            }
            s.misses += 1
            return Ticket(arena: self, step: s.step, slot: k, slab: nil, offset: 0)
        }
    }

    /// A storage made with `ticket` has died (on any thread).
    func died(_ ticket: Ticket) {
        state.withLock { s in
            if ticket.step == s.step { s.trace.died[ticket.slot] = s.clock; s.clock += 1 }
            if let slab = ticket.slab, s.plan?.slab === slab { s.plan!.release(ticket.offset) }
        }
    }

    /// Marks a step boundary: plans from the step just ended when there is no plan or it did not follow it.
    func endStep() {
        let trace: Trace? = state.withLock { s in
            let t = s.trace
            let follows = s.plan.map { !s.deviated && t.sizes.count == $0.sizes.count } ?? false
            // Off the plan, or nothing large any more: the slab goes with its last tensor, before a new one is made.
            if !follows { s.plan = nil }
            s.trace = Trace(); s.step += 1; s.clock = 0; s.deviated = false
            return follows || t.sizes.isEmpty ? nil : t
        }
        guard let trace else { return }
        // The recorded step's tensors were malloc'd and are freed now; glibc keeps much of that in
        // its heap, which would stay resident beside the slab (MobileNetV2's `convlens train` had a
        // peak RSS of 467 MB against 328 without the arena). Give it back before the slab is made.
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
        let (offsets, floats) = Self.place(trace)
        let plan = Plan(slab: Slab(floats: floats), sizes: trace.sizes, offsets: offsets)
        state.withLock { s in s.plan = plan; s.plans += 1 }
    }

    /// Offsets for a trace's tensors, greedy by size, and the slab's size in floats.
    static func place(_ t: Trace) -> (offsets: [Int], floats: Int) {
        let n = t.sizes.count
        let order = (0..<n).sorted { t.sizes[$0] != t.sizes[$1] ? t.sizes[$0] > t.sizes[$1] : $0 < $1 }
        var offsets = [Int](repeating: 0, count: n)
        var placed: [Int] = []
        var floats = 0
        var clashes: [(start: Int, end: Int)] = []
        for k in order {
            clashes.removeAll(keepingCapacity: true)
            for j in placed where t.born[j] < t.died[k] && t.born[k] < t.died[j] {
                clashes.append((offsets[j], offsets[j] + t.sizes[j]))
            }
            clashes.sort { $0.start < $1.start }
            var offset = 0
            for c in clashes {
                if offset + t.sizes[k] <= c.start { break }
                offset = max(offset, c.end)
            }
            offsets[k] = offset
            floats = max(floats, offset + t.sizes[k])
            placed.append(k)
        }
        return (offsets, floats)
    }

    /// Allocations the plan could not serve (each one a malloc), since the arena was made.
    var misses: Int { state.withLock { $0.misses } }
    /// Plans made so far.
    var plans: Int { state.withLock { $0.plans } }
    /// The current plan's slab, in bytes.
    var slabBytes: Int { state.withLock { ($0.plan?.slab.floats ?? 0) * 4 } }

    /// Runs `body` with this arena serving the calling thread's allocations.
    func with<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        let previous = pthread_getspecific(Self.key)
        pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(Self.key, previous) }
        return try body()
    }

    /// The arena installed on the calling thread, if any.
    static var current: Arena? {
        pthread_getspecific(key).map { Unmanaged<Arena>.fromOpaque($0).takeUnretainedValue() }
    }
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
}
