import Foundation
import Synchronization

/// The engine's own threads for splitting one operation over the cores: `perform` is
/// `DispatchQueue.concurrentPerform` with workers that stay awake for a moment after each job.
///
/// Measured on this machine (2 cores): `concurrentPerform(iterations: 2)` of two 20 µs parts took
/// 57 µs, back to back, because libdispatch parks its worker after every call and waking it costs
/// more than many kernels' whole share (a depthwise layer on 7×7 maps is ~0.3 ms; a model's forward
/// pass is a hundred or more such calls). Here each worker spins for `spinNanoseconds` after its
/// last job before it sleeps, so a job that follows within that time starts at once (22 µs for the
/// same two parts); after longer gaps a sleeping worker is woken as libdispatch's would be.
///
/// One job at a time: a call made while a job runs (from another thread, or from inside a part)
/// goes to `concurrentPerform` instead, so callers never wait on each other and nesting cannot
/// deadlock.
enum Workers {
    /// How long an idle worker spins before sleeping (OpenMP runtimes spin for 200 ms by default;
    /// this is a thousandth of that, enough to bridge the gaps between one pass's kernels).
    static let spinNanoseconds: UInt64 = 200_000

    /// Runs `body(i)` for every i in 0..<iterations over ConvLens's threads (`BLAS.threads`), the
    /// calling thread included, and returns when all have finished.
    static func perform(iterations: Int, _ body: (Int) -> Void) {
        guard iterations > 1, let pool else {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { f in
            if !pool.run(iterations, f) {
                let box = UnsafeSendableBox(f)
                DispatchQueue.concurrentPerform(iterations: iterations) { box.value($0) }
            }
        }
    }

    /// BLAS.threads − 1 workers; nil when ConvLens runs on one thread.
    private static let pool: Pool? = BLAS.threads > 1 ? Pool(workers: BLAS.threads - 1) : nil

    /// The job is published by bumping `generation` (after `count` and `body` are written) and is
    /// over when every worker has said so in `finished`: no worker can still be reading `body`
    /// when the next job writes it.
    private final class Pool: @unchecked Sendable {
        let workers: Int
        let generation = Atomic<Int>(0)
        let nextPart = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let busy = Atomic<Bool>(false)
        let sleepers = Atomic<Int>(0)
        let wake = NSCondition()
        var count = 0
        var body: ((Int) -> Void)?

        init(workers: Int) {
            self.workers = workers
            for i in 0..<workers {
                let t = Thread { [unowned self] in self.serve() }
                t.name = "convlens-worker-\(i + 1)"
                t.start()
            }
        }

        /// Runs the job, or returns false at once when another is running.
        func run(_ n: Int, _ f: @escaping (Int) -> Void) -> Bool {
            guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
            count = n
            body = f
            nextPart.store(0, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 { wake.lock(); wake.broadcast(); wake.unlock() }
            take(n, f)
            while finished.load(ordering: .acquiring) < workers {}
            body = nil
            busy.store(false, ordering: .releasing)
            return true
        }

        /// Runs parts until none is left.
        func take(_ n: Int, _ f: (Int) -> Void) {
            while true {
                let p = nextPart.wrappingAdd(1, ordering: .relaxed).oldValue
                if p >= n { return }
                f(p)
            }
        }

        /// A worker's share of the job, in a function of its own: its reference to `body` ends
        /// when it returns, before the job is said to be over (a local in `serve` could outlive
        /// that in a debug build, which `withoutActuallyEscaping` reports as an escape).
        @inline(never) func work() { take(count, body!) }

        func serve() {
            var seen = 0
            while true {
                let since = DispatchTime.now().uptimeNanoseconds
                var spins = 0
                while generation.load(ordering: .acquiring) == seen {
                    spins &+= 1
                    guard spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - since > Workers.spinNanoseconds else { continue }
                    wake.lock()
                    sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                    sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                    wake.unlock()
                }
                seen = generation.load(ordering: .acquiring)
                work()
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }
    }
}
