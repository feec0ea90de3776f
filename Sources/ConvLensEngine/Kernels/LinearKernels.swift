// Linear on the last dimension. Legend: R rows (all leading dimensions), I in_features, O out_features.

/// y[R, O] = x[R, I] · weight[O, I]ᵀ + bias[O]. Returns the multiply-accumulates performed (R·O·I).
@discardableResult
func linearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                   _ bias: UnsafePointer<Float>?, rows: Int, inFeatures: Int, outFeatures: Int) -> Int {
    BLAS.parallelSgemm(.none, .transpose, rows, outFeatures, inFeatures, 1, x, inFeatures, weight, inFeatures, 0, y, outFeatures)
    if let bias {
        for r in 0..<rows { let yr = y + r * outFeatures; for o in 0..<outFeatures { yr[o] += bias[o] } }
    }
    return rows * outFeatures * inFeatures
}

/// dx[R, I] += dy · weight; dweight[O, I] += dyᵀ · x; dbias[O] += Σ_r dy.
func linearBackward(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>, _ dbias: UnsafeMutablePointer<Float>?,
                    _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                    rows: Int, inFeatures: Int, outFeatures: Int) {
    if let dx { BLAS.parallelSgemm(.none, .none, rows, inFeatures, outFeatures, 1, dy, outFeatures, weight, inFeatures, 1, dx, inFeatures) }
    BLAS.parallelSgemm(.transpose, .none, outFeatures, inFeatures, rows, 1, dy, outFeatures, x, inFeatures, 1, dweight, inFeatures)
    if let dbias {
        for r in 0..<rows { let d = dy + r * outFeatures; for o in 0..<outFeatures { dbias[o] += d[o] } }
    }
}
