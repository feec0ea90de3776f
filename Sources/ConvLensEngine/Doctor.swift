import Foundation
import Synchronization

/// The text `convlens doctor` prints: the BLAS choice, its check, and a quick speed measure.
public enum Doctor {
    /// Median GFLOP/s of a size³ sgemm (2·size³ flops per call) over a few runs, as the engine
    /// runs it (`BLAS.parallelSgemm`: one OpenBLAS thread per core's block), or with
    /// `openBLASThreads` as one `BLAS.sgemm` call on OpenBLAS's own threads.
    public static func sgemmGFLOPS(size n: Int, runs: Int = 5, openBLASThreads: Bool = false) -> Double {
        let a = Tensor(zeros: [n, n]), b = Tensor(zeros: [n, n]), c = Tensor(zeros: [n, n])
        for i in 0..<(n * n) { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
        func call() {
            if openBLASThreads { BLAS.sgemm(.none, .none, n, n, n, 1, a.data, n, b.data, n, 0, c.data, n) }
            else { BLAS.parallelSgemm(.none, .none, n, n, n, 1, a.data, n, b.data, n, 0, c.data, n) }
        }
        call()   // warm-up
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            call()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let t = times.sorted()[runs / 2]
        return 2 * Double(n) * Double(n) * Double(n) / t / 1e9
    }

    /// Measured fused-multiply-add throughput in GFLOP/s (2 flops per lane per FMA) on `threads`
    /// threads at once: each runs twelve independent SIMD8 accumulators (more than FMA latency ×
    /// FMA units, so the units never wait) for `iterations` rounds. Per thread it is
    /// FMA units × 8 lanes × 2 × the clock the core actually runs at: benchmarks read the clock
    /// (and the machine's FMA peak) from it rather than trusting /proc/cpuinfo's nominal MHz.
    public static func fmaGFLOPS(threads: Int, iterations: Int = 20_000_000) -> Double {
        let times = Mutex<[Double]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let t0 = DispatchTime.now().uptimeNanoseconds
            let s = fmaChains(iterations, seed: Float(t) * 1e-3)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            times.withLock { $0.append(s.isNaN ? .infinity : dt) }    // s is read: the loop is not dead code
        }
        let slowest = times.withLock { $0.max() ?? .infinity }
        return Double(threads) * Double(iterations) * 12 * 8 * 2 / slowest / 1e9
    }

    @inline(never)
    static func fmaChains(_ iterations: Int, seed: Float) -> Float {
        typealias V = SIMD8<Float>
        let b = V(repeating: 0.999_999), c = V(repeating: 1e-7 + seed)
        var a0 = V(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
        var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
        for _ in 0..<iterations {
            a0 = c.addingProduct(a0, b); a1 = c.addingProduct(a1, b); a2 = c.addingProduct(a2, b); a3 = c.addingProduct(a3, b)
            a4 = c.addingProduct(a4, b); a5 = c.addingProduct(a5, b); a6 = c.addingProduct(a6, b); a7 = c.addingProduct(a7, b)
            a8 = c.addingProduct(a8, b); a9 = c.addingProduct(a9, b); a10 = c.addingProduct(a10, b); a11 = c.addingProduct(a11, b)
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
    }

    public static func report(size: Int) -> String {
        let s = BLAS.status
        let gflops = sgemmGFLOPS(size: max(16, size))
        return [
            "BLAS library     : \(s.usingOpenBLAS ? "OpenBLAS (dlopen libopenblas.so.0)" : "built-in Swift sgemm (fallback)")",
            "OPENBLAS_CORETYPE: \(s.requestedCore.isEmpty ? "(unset)" : s.requestedCore)  [\(s.reason)]",
            "core in use      : \(s.coreName)",
            "config           : \(s.config)",
            "threads          : \(s.threads) of \(s.cores) cores; ConvLens splits each operation itself, OpenBLAS runs one thread per call (set CONVLENS_THREADS to use fewer)",
            "check            : \(s.check)",
            "sgemm \(size)³      : \(String(format: "%.1f", gflops)) GFLOP/s",
        ].joined(separator: "\n")
    }
}
