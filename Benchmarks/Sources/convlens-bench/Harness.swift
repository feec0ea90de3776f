import Foundation

/// Wall-clock seconds of one call.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// Seconds per call: the mean of `runs` calls after `warmup` (engine_bench.py's `timed`). Model
/// steps warm up twice: the engine plans its arena from the first step and sets it up in the second.
func seconds(warmup: Int, runs: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<warmup { try body() }
    return try seconds { for _ in 0..<runs { try body() } } / Double(runs)
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// One benchmark: a name, and a body that runs it once and returns (metric name → value).
/// Benchmarks run one at a time on the main thread; the closures capture nothing mutable.
struct Bench: @unchecked Sendable {
    var name: String
    var summary: String
    var run: () throws -> [(String, Double)]
}

/// Runs each bench `repeats` times, interleaved (A B C A B C …) so machine noise spreads evenly,
/// and prints the median of every metric.
func runInterleaved(_ benches: [Bench], repeats: Int) throws {
    var results: [String: [String: [Double]]] = [:]
    var order: [String: [String]] = [:]
    for r in 0..<repeats {
        for b in benches {
            let ms = try b.run()
            for (k, v) in ms {
                if results[b.name, default: [:]][k] == nil { order[b.name, default: []].append(k) }
                results[b.name, default: [:]][k, default: []].append(v)
            }
            FileHandle.standardError.write(Data("\r[\(r + 1)/\(repeats)] \(b.name)        ".utf8))
        }
    }
    FileHandle.standardError.write(Data("\n".utf8))
    print("| benchmark | metric | median | target |")
    print("|---|---|---|---|")
    for b in benches {
        for k in order[b.name] ?? [] {
            let m = median(results[b.name]![k]!)
            print("| \(b.name) | \(k) | \(String(format: "%.4g", m)) | \(b.summary) |")
        }
    }
}
