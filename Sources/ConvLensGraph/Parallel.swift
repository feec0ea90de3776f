import Dispatch
import Foundation

/// Maps independent pieces of work (one model each) over the machine's cores, keeping the input
/// order. The first failure in input order is thrown, so errors are as reproducible as a serial loop.
public enum Parallel {
    /// Worker threads used: the active cores, at most the number of items.
    public static var threads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public static func map<T: Sendable, R: Sendable, E: Error>(_ items: [T], _ transform: @Sendable (T) throws(E) -> R) throws(E) -> [R] {
        if items.count < 2 || threads < 2 {
            var out: [R] = []
            out.reserveCapacity(items.count)
            for x in items { out.append(try transform(x)) }
            return out
        }
        let slots = UnsafeMutablePointer<Result<R, E>?>.allocate(capacity: items.count)
        slots.initialize(repeating: nil, count: items.count)
        defer { slots.deinitialize(count: items.count); slots.deallocate() }
        nonisolated(unsafe) let out = slots            // each iteration writes only its own slot
        DispatchQueue.concurrentPerform(iterations: items.count) { i in
            do throws(E) { out[i] = .success(try transform(items[i])) } catch { out[i] = .failure(error) }
        }
        var results: [R] = []
        results.reserveCapacity(items.count)
        for i in 0..<items.count {
            switch slots[i]! {
            case .success(let r): results.append(r)
            case .failure(let e): throw e
            }
        }
        return results
    }
}

extension Registry {
    /// Loads and instantiates several models, on all cores (`convlens list`, `compare`).
    public static func graphs(_ models: [String], arguments: [String] = [], input: [Int]? = nil) throws(ZooError) -> [ModelGraph] {
        try Parallel.map(models) { (m: String) throws(ZooError) -> ModelGraph in try graph(m, arguments: arguments, input: input) }
    }
}
