import Foundation

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
