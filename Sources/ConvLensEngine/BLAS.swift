import COpenBLAS
import Foundation

/// OpenBLAS, loaded at run time after choosing its kernel set for this CPU.
///
/// Why dlopen: OpenBLAS reads `OPENBLAS_CORETYPE` once, when the shared library loads. Debian's
/// 0.3.21 does not recognise recent CPUs and silently falls back to its Prescott (SSE3) kernels,
/// 4–6× slower. So ConvLens does not link it: the first sgemm call detects the CPU's features
/// (cpuid via /proc/cpuinfo flags), sets `OPENBLAS_CORETYPE` (SkylakeX / Haswell / SandyBridge),
/// then `dlopen`s libopenblas.so.0. The user's own `OPENBLAS_CORETYPE`, or `CONVLENS_BLAS_CORE`,
/// wins over the detection.
///
/// Safety net: right after loading, a small sgemm (odd sizes, all transposes, alpha/beta) is
/// checked against a naive loop. If it fails — or the library cannot be loaded at all — ConvLens
/// does NOT re-exec itself (that would surprise library users and tests); it keeps running on
/// its own blocked Swift sgemm, which is correct but slow, and `convlens doctor` reports the
/// failure so the user can set `CONVLENS_BLAS_CORE` to a kernel set that works.
public enum BLAS {
    public enum Transpose: Sendable { case none, transpose }

    /// What was chosen and how it went; `convlens doctor` prints it.
    public struct Status: Sendable {
        /// The OPENBLAS_CORETYPE in effect ("" = left unset, OpenBLAS detects by itself).
        public var requestedCore: String
        /// Where the choice came from: "OPENBLAS_CORETYPE (user)", "CONVLENS_BLAS_CORE (user)", "cpu flags: …".
        public var reason: String
        /// `openblas_get_corename()`, or "none" when not loaded.
        public var coreName: String
        /// `openblas_get_config()`.
        public var config: String
        /// Threads ConvLens splits its work over (never more than `cores`; `CONVLENS_THREADS` or
        /// `OPENBLAS_NUM_THREADS` lowers it). OpenBLAS itself runs one thread per call: see `threads`.
        public var threads: Int
        public var cores: Int
        /// The sgemm correctness check passed, and OpenBLAS is in use.
        public var usingOpenBLAS: Bool
        /// One line: the check's result or why OpenBLAS is not used.
        public var check: String
    }

    typealias SgemmFn = @convention(c) (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint,
                                        Float, UnsafePointer<Float>?, blasint, UnsafePointer<Float>?, blasint,
                                        Float, UnsafeMutablePointer<Float>?, blasint) -> Void
    typealias StringFn = @convention(c) () -> UnsafeMutablePointer<CChar>?
    typealias SetThreadsFn = @convention(c) (Int32) -> Void

    struct Library: @unchecked Sendable {
        var sgemm: SgemmFn?
        var setThreads: SetThreadsFn?
        var status: Status
    }

    /// Loaded once, on first use (Swift globals are initialised lazily and thread-safely).
    static let library: Library = load()

    public static var status: Status { library.status }

    /// Cores this process may use.
    public static var availableCores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Threads the engine's kernels split their work over (`status.threads`).
    public static var threads: Int { library.status.threads }

    /// Sets OpenBLAS's own thread count for direct `sgemm` calls, clamped to 1…available cores.
    /// The engine keeps it at 1 (see `parallelSgemm`); benchmarks raise it to measure OpenBLAS's
    /// own threading. Returns the count in effect.
    @discardableResult
    public static func setThreads(_ n: Int) -> Int {
        let k = min(max(1, n), availableCores)
        library.setThreads?(Int32(k))
        return k
    }

    /// The kernel set for this CPU from its feature flags (x86-64 only; elsewhere nil = let OpenBLAS decide).
    public static func coreType(forFlags flags: Set<String>) -> String? {
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        if flags.contains("avx") { return "SandyBridge" }
        return nil
    }

    /// The CPU feature flags from /proc/cpuinfo (empty where there is none).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    static func load() -> Library {
        let env = ProcessInfo.processInfo.environment
        var requested = ""
        var reason: String
        // If the executable was linked against libopenblas (a build that passes -lopenblas), the
        // library is already loaded and has read OPENBLAS_CORETYPE at start-up: say so.
        let preloaded = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD) != nil || dlopen("libopenblas.so", RTLD_NOW | RTLD_NOLOAD) != nil
        if let user = env["CONVLENS_BLAS_CORE"], !user.isEmpty {
            requested = user; reason = "CONVLENS_BLAS_CORE (user override)"
            setenv("OPENBLAS_CORETYPE", user, 1)
        } else if let user = env["OPENBLAS_CORETYPE"], !user.isEmpty {
            requested = user; reason = "OPENBLAS_CORETYPE (set by the user)"
        } else if let core = coreType(forFlags: cpuFlags()) {
            requested = core; reason = "detected from cpu flags"
            setenv("OPENBLAS_CORETYPE", core, 1)
        } else {
            reason = "no AVX flags found: OpenBLAS detects by itself"
        }
        if preloaded {
            reason += "; but libopenblas was already loaded (linked into the executable), so the choice came too late: the core below is what OpenBLAS picked at start-up"
        }
        var status = Status(requestedCore: requested, reason: reason, coreName: "none", config: "", threads: 1,
                            cores: availableCores, usingOpenBLAS: false, check: "")
        var handle: UnsafeMutableRawPointer? = nil
        for name in ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"] {
            handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL)
            if handle != nil { break }
        }
        guard let h = handle, let sg = dlsym(h, "cblas_sgemm") else {
            status.check = "libopenblas.so.0 could not be loaded (\(String(cString: dlerror() ?? strdup("?")))): using the built-in Swift sgemm (slow)"
            return Library(sgemm: nil, setThreads: nil, status: status)
        }
        let sgemm = unsafeBitCast(sg, to: SgemmFn.self)
        let setT = dlsym(h, "openblas_set_num_threads").map { unsafeBitCast($0, to: SetThreadsFn.self) }
        if let f = dlsym(h, "openblas_get_corename").map({ unsafeBitCast($0, to: StringFn.self) }), let s = f() { status.coreName = String(cString: s) }
        if let f = dlsym(h, "openblas_get_config").map({ unsafeBitCast($0, to: StringFn.self) }), let s = f() { status.config = String(cString: s).trimmingCharacters(in: .whitespaces) }
        // Threads: OpenBLAS runs one thread per call, always. Its own worker threads spin
        // (sched_yield) for a while after every multi-threaded call, which steals a core from
        // whatever runs next (im2col, pooling, the other half of a split batch): a fifth of a
        // small model's training step went there. ConvLens splits the work itself instead —
        // a batch, a GEMM's rows or columns — over `threads` threads (see `parallelSgemm`).
        let requestedThreads = (env["CONVLENS_THREADS"] ?? env["OPENBLAS_NUM_THREADS"]).flatMap { Int($0) } ?? availableCores
        status.threads = min(max(1, requestedThreads), availableCores)
        setT?(1)
        let error = checkSgemm(sgemm)
        if error <= 1e-5 {
            status.usingOpenBLAS = true
            status.check = "sgemm check passed (max relative error \(String(format: "%.1e", error)) vs naive loop)"
            return Library(sgemm: sgemm, setThreads: setT, status: status)
        }
        status.check = "sgemm check FAILED with core \(status.coreName) (relative error \(error)): using the built-in Swift sgemm (slow); set CONVLENS_BLAS_CORE to a core that works (e.g. Haswell, SandyBridge, Prescott)"
        return Library(sgemm: nil, setThreads: nil, status: status)
    }

    /// Largest relative error of OpenBLAS's sgemm against `naiveSgemm`, over all transpose pairs.
    static func checkSgemm(_ f: SgemmFn) -> Double {
        let (m, n, k) = (67, 45, 131)
        var worst = 0.0
        var seed: UInt32 = 12345
        func rnd() -> Float { seed = seed &* 1664525 &+ 1013904223; return Float(seed >> 8) / Float(1 << 24) - 0.5 }
        let a = (0..<(m * k)).map { _ in rnd() }, b = (0..<(k * n)).map { _ in rnd() }, c0 = (0..<(m * n)).map { _ in rnd() }
        for ta in [false, true] {
            for tb in [false, true] {
                var got = c0, want = c0
                let lda = ta ? m : k, ldb = tb ? k : n
                f(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, blasint(m), blasint(n), blasint(k),
                  0.75, a, blasint(lda), b, blasint(ldb), 0.5, &got, blasint(n))
                naiveSgemm(ta ? .transpose : .none, tb ? .transpose : .none, m, n, k, 0.75, a, lda, b, ldb, 0.5, &want, n)
                var num = 0.0, den = 0.0
                for i in 0..<(m * n) { num += Double(got[i] - want[i]) * Double(got[i] - want[i]); den += Double(want[i]) * Double(want[i]) }
                worst = max(worst, (num / max(den, 1e-30)).squareRoot())
            }
        }
        return worst.isNaN ? .infinity : worst
    }

    /// `sgemm` split over `threads` threads, each running OpenBLAS single-threaded on its own
    /// block of C's columns (or rows, when C is taller than wide). Small products run on the
    /// calling thread. Call it from one thread at a time (it uses every core).
    public static func parallelSgemm(_ transA: Transpose, _ transB: Transpose, _ m: Int, _ n: Int, _ k: Int,
                                     _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                                     _ b: UnsafePointer<Float>, _ ldb: Int,
                                     _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        let parts = threads
        guard parts >= 2, m * n * k >= 1 << 19, max(m, n) >= 32 else {
            return sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
        let byColumns = n >= m
        let extent = byColumns ? n : m
        let chunk = ((extent + parts - 1) / parts + 15) / 16 * 16      // multiples of 16: whole kernel panels
        let (aAddr, bAddr, cAddr) = (Int(bitPattern: a), Int(bitPattern: b), Int(bitPattern: c))
        Workers.perform(iterations: parts) { t in
            let lo = t * chunk, hi = min(extent, lo + chunk)
            guard lo < hi else { return }
            let a = UnsafePointer<Float>(bitPattern: aAddr)!, b = UnsafePointer<Float>(bitPattern: bAddr)!
            let c = UnsafeMutablePointer<Float>(bitPattern: cAddr)!
            if byColumns {
                sgemm(transA, transB, m, hi - lo, k, alpha, a, lda, transB == .none ? b + lo : b + lo * ldb, ldb, beta, c + lo, ldc)
            } else {
                sgemm(transA, transB, hi - lo, n, k, alpha, transA == .none ? a + lo * lda : a + lo, lda, b, ldb, beta, c + lo * ldc, ldc)
            }
        }
    }

    /// Row-major C[M,N] = alpha·op(A)[M,K]·op(B)[K,N] + beta·C, on the calling thread.
    @inline(__always)
    public static func sgemm(_ transA: Transpose, _ transB: Transpose, _ m: Int, _ n: Int, _ k: Int,
                             _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                             _ b: UnsafePointer<Float>, _ ldb: Int,
                             _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        if m == 0 || n == 0 { return }
        if let f = library.sgemm {
            f(CblasRowMajor, transA == .none ? CblasNoTrans : CblasTrans, transB == .none ? CblasNoTrans : CblasTrans,
              blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
        } else {
            naiveSgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
    }
}
