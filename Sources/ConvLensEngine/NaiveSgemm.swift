/// The reference (and fallback) sgemm: row-major C[M,N] = alpha·op(A)·op(B) + beta·C, accumulated
/// in Double. Correct, not fast: used to check OpenBLAS, and when OpenBLAS is unusable.
func naiveSgemm(_ transA: BLAS.Transpose, _ transB: BLAS.Transpose, _ m: Int, _ n: Int, _ k: Int,
                _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                _ b: UnsafePointer<Float>, _ ldb: Int,
                _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    var row = [Double](repeating: 0, count: n)
    for i in 0..<m {
        for j in 0..<n { row[j] = 0 }
        for p in 0..<k {
            let av = Double(transA == .none ? a[i * lda + p] : a[p * lda + i])
            if av == 0 { continue }
            if transB == .none {
                let bp = b + p * ldb
                for j in 0..<n { row[j] += av * Double(bp[j]) }
            } else {
                for j in 0..<n { row[j] += av * Double(b[j * ldb + p]) }
            }
        }
        let ci = c + i * ldc
        for j in 0..<n {
            let prior = beta == 0 ? 0 : Double(beta) * Double(ci[j])   // beta = 0 ignores C (may be garbage), as BLAS does
            ci[j] = Float(Double(alpha) * row[j] + prior)
        }
    }
}
