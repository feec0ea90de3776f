import Foundation

// Classification loss. Legend: B batch rows, K classes.

/// y[B, K] = log_softmax(x) along K (max-shifted, log-sum-exp in Double).
func logSoftmaxForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, classes: Int) {
    for r in 0..<rows {
        let xr = x + r * classes, yr = y + r * classes
        var mx = -Float.infinity
        for k in 0..<classes { mx = max(mx, xr[k]) }
        var s = 0.0
        for k in 0..<classes { s += exp(Double(xr[k] - mx)) }
        let lse = Double(mx) + log(s)
        for k in 0..<classes { yr[k] = Float(Double(xr[k]) - lse) }
    }
}

/// dx[B, K] += dy − softmax·Σ_k dy, the adjoint of log_softmax given its output y.
func logSoftmaxBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ y: UnsafePointer<Float>, rows: Int, classes: Int) {
    for r in 0..<rows {
        let dyr = dy + r * classes, yr = y + r * classes, dxr = dx + r * classes
        var s = 0.0
        for k in 0..<classes { s += Double(dyr[k]) }
        for k in 0..<classes { dxr[k] += dyr[k] - Float(exp(Double(yr[k])) * s) }
    }
}

/// Mean cross-entropy of logits[B, K] against class targets: −(1/B)·Σ_b log_softmax(x)[b, t_b].
/// Writes dlogits[B, K] = scale·(softmax − onehot)/B (overwrites). Returns the loss.
func crossEntropyForwardBackward(_ dlogits: UnsafeMutablePointer<Float>?, _ logits: UnsafePointer<Float>, targets: [Int],
                                 rows: Int, classes: Int, scale: Float = 1) -> Double {
    var loss = 0.0
    let lp = UnsafeMutablePointer<Float>.allocate(capacity: rows * classes)
    defer { lp.deallocate() }
    logSoftmaxForward(lp, logits, rows: rows, classes: classes)
    for r in 0..<rows {
        loss -= Double(lp[r * classes + targets[r]])
        if let dlogits {
            for k in 0..<classes {
                let p = Float(exp(Double(lp[r * classes + k])))
                dlogits[r * classes + k] = scale * (p - (k == targets[r] ? 1 : 0)) / Float(rows)
            }
        }
    }
    return loss / Double(rows)
}
