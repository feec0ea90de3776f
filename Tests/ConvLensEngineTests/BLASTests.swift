import Foundation
import Testing
@testable import ConvLensEngine

/// The OpenBLAS loader: core choice from cpu flags, the correctness check, sgemm against the naive loop.
struct BLASTests {
    @Test func coreTypeFromFlags() {
        #expect(BLAS.coreType(forFlags: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma", "avx"]) == "SkylakeX")
        #expect(BLAS.coreType(forFlags: ["avx512f", "avx2", "fma", "avx"]) == "Haswell")   // partial AVX-512 is not enough
        #expect(BLAS.coreType(forFlags: ["avx2", "avx"]) == "SandyBridge")                 // AVX2 without FMA
        #expect(BLAS.coreType(forFlags: ["sse3"]) == nil)
    }

    @Test func loadedAndChecked() {
        let s = BLAS.status
        #expect(s.usingOpenBLAS, "\(s.check)")
        #expect(s.check.contains("passed"))
        #expect(s.threads >= 1 && s.threads <= s.cores)
    }

    @Test func sgemmMatchesNaiveForAllTransposes() {
        let (m, n, k) = (5, 7, 3)
        let a = (0..<(m * k)).map { Float($0) * 0.5 - 3 }, b = (0..<(k * n)).map { Float($0 % 5) - 2 }
        for ta in [BLAS.Transpose.none, .transpose] {
            for tb in [BLAS.Transpose.none, .transpose] {
                var c1 = [Float](repeating: 1, count: m * n), c2 = c1
                let lda = ta == .none ? k : m, ldb = tb == .none ? n : k
                BLAS.sgemm(ta, tb, m, n, k, 2, a, lda, b, ldb, 0.5, &c1, n)
                naiveSgemm(ta, tb, m, n, k, 2, a, lda, b, ldb, 0.5, &c2, n)
                #expect(c1 == c2)
            }
        }
    }

    /// The engine's own split: big enough to split, by columns (N ≥ M) and by rows (M > N), every
    /// transpose pair, alpha and beta, with sizes that leave a ragged last block.
    @Test(arguments: [(40, 700, 33), (700, 40, 33), (37, 37, 400)])
    func parallelSgemmMatchesNaive(_ size: (Int, Int, Int)) {
        let (m, n, k) = size
        #expect(m * n * k >= 1 << 19 || max(m, n) < 32)
        let a = (0..<(m * k)).map { Float(($0 * 7) % 11) * 0.25 - 1 }, b = (0..<(k * n)).map { Float(($0 * 5) % 9) * 0.5 - 2 }
        for ta in [BLAS.Transpose.none, .transpose] {
            for tb in [BLAS.Transpose.none, .transpose] {
                var c1 = (0..<(m * n)).map { Float($0 % 3) }, c2 = c1
                let lda = ta == .none ? k : m, ldb = tb == .none ? n : k
                BLAS.parallelSgemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 2, &c1, n)
                naiveSgemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 2, &c2, n)
                let worst = zip(c1, c2).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                #expect(worst < 1e-5, "\(ta) \(tb): \(worst)")
            }
        }
    }
}
