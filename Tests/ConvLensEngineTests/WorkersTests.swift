import Foundation
import Synchronization
import Testing
@testable import ConvLensEngine

/// Workers.perform: every iteration runs exactly once, before it returns, whoever calls it and
/// however the calls nest or overlap, and jobs that follow one another closely (the spinning
/// workers' case) or after the workers have gone to sleep.
struct WorkersTests {
    /// Counts of each iteration after `perform(iterations: n)`.
    func counts(_ n: Int, work: (Int) -> Void = { _ in }) -> [Int] {
        let hits = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: n)
        for i in 0..<n { (hits + i).initialize(to: Atomic(0)) }
        defer { hits.deinitialize(count: n); hits.deallocate() }
        Workers.perform(iterations: n) { i in
            work(i)
            hits[i].wrappingAdd(1, ordering: .relaxed)
        }
        return (0..<n).map { hits[$0].load(ordering: .relaxed) }
    }

    @Test func everyIterationOnceBackToBack() {
        for n in [0, 1, 2, 3, 7, 64, 1000] {
            for _ in 0..<200 { #expect(counts(n) == Array(repeating: 1, count: n), "\(n) iterations") }
        }
    }

    @Test func everyIterationOnceAfterTheWorkersSleep() throws {
        for _ in 0..<5 {
            Thread.sleep(forTimeInterval: Double(Workers.spinNanoseconds) / 1e9 * 3)
            #expect(counts(16) == Array(repeating: 1, count: 16))
        }
    }

    @Test func nestedCallsRunEveryInnerIteration() {
        let inner = Atomic<Int>(0)
        let outer = counts(4) { _ in
            Workers.perform(iterations: 5) { _ in inner.wrappingAdd(1, ordering: .relaxed) }
        }
        #expect(outer == [1, 1, 1, 1])
        #expect(inner.load(ordering: .relaxed) == 20)
    }

    @Test func overlappingCallersEachGetTheirOwnJob() {
        let ok = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<100 where counts(33) == Array(repeating: 1, count: 33) { ok.wrappingAdd(1, ordering: .relaxed) }
        }
        #expect(ok.load(ordering: .relaxed) == 400)
    }

    /// What the parts write is visible to the caller once perform returns.
    @Test func writesArePublishedToTheCaller() {
        let n = 4096
        let out = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { out.deallocate() }
        for round in 0..<100 {
            parallelParts(n, work: 1 << 20) { _, chunk in for i in chunk { out[i] = Float(i + round) } }
            #expect((0..<n).allSatisfy { out[$0] == Float($0 + round) })
        }
    }
}
