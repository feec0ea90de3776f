// BatchNorm2d over NCHW. Legend: N batch, C channels, HW = H·W, M = N·HW values per channel.
// Statistics are accumulated in Double. `channels` restricts a call to some channels (the engine
// splits the channels over two threads).

/// Training: y = (x − mean)·invstd·weight + bias with the batch's mean and biased variance;
/// saves mean[C], invstd[C] = 1/sqrt(var + eps) for the backward pass, and updates the running
/// statistics: running = (1 − momentum)·running + momentum·batch, with the UNBIASED variance
/// var·M/(M − 1), as torch does.
func batchNorm2dTrainForward(_ y: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ invstd: UnsafeMutablePointer<Float>,
                             _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>?, _ bias: UnsafePointer<Float>?,
                             runningMean: UnsafeMutablePointer<Float>?, runningVar: UnsafeMutablePointer<Float>?,
                             n: Int, c: Int, hw: Int, eps: Double, momentum: Double, channels: Range<Int>? = nil) {
    let m = n * hw
    for ch in channels ?? 0..<c {
        var s = 0.0
        for b in 0..<n { let xp = x + (b * c + ch) * hw; for p in 0..<hw { s += Double(xp[p]) } }
        let mu = s / Double(m)
        var ss = 0.0
        for b in 0..<n { let xp = x + (b * c + ch) * hw; for p in 0..<hw { let d = Double(xp[p]) - mu; ss += d * d } }
        let variance = ss / Double(m)
        let istd = 1 / (variance + eps).squareRoot()
        mean[ch] = Float(mu); invstd[ch] = Float(istd)
        let scale = Float(istd) * (weight?[ch] ?? 1), shift = (bias?[ch] ?? 0) - Float(mu) * scale
        for b in 0..<n {
            let xp = x + (b * c + ch) * hw, yp = y + (b * c + ch) * hw
            for p in 0..<hw { yp[p] = xp[p] * scale + shift }
        }
        if let runningMean, let runningVar {
            let unbiased = m > 1 ? ss / Double(m - 1) : variance
            runningMean[ch] = Float((1 - momentum) * Double(runningMean[ch]) + momentum * mu)
            runningVar[ch] = Float((1 - momentum) * Double(runningVar[ch]) + momentum * unbiased)
        }
    }
}

/// Evaluation: y = (x − running_mean)/sqrt(running_var + eps)·weight + bias. Saves mean/invstd as used.
func batchNorm2dEvalForward(_ y: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ invstd: UnsafeMutablePointer<Float>,
                            _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>?, _ bias: UnsafePointer<Float>?,
                            runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>, n: Int, c: Int, hw: Int, eps: Double,
                            channels: Range<Int>? = nil) {
    for ch in channels ?? 0..<c {
        let istd = 1 / (Double(runningVar[ch]) + eps).squareRoot()
        mean[ch] = runningMean[ch]; invstd[ch] = Float(istd)
        let scale = Float(istd) * (weight?[ch] ?? 1), shift = (bias?[ch] ?? 0) - runningMean[ch] * scale
        for b in 0..<n {
            let xp = x + (b * c + ch) * hw, yp = y + (b * c + ch) * hw
            for p in 0..<hw { yp[p] = xp[p] * scale + shift }
        }
    }
}

/// Accumulates dx, dweight, dbias. With batch statistics (training), xhat = (x − mean)·invstd and
/// dx = weight·invstd·(dy − mean(dy) − xhat·mean(dy·xhat)); with running statistics (eval) the
/// statistics are constants and dx = weight·invstd·dy. dweight += Σ dy·xhat, dbias += Σ dy.
func batchNorm2dBackward(_ dx: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?, _ dbias: UnsafeMutablePointer<Float>?,
                         _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>?,
                         _ mean: UnsafePointer<Float>, _ invstd: UnsafePointer<Float>, n: Int, c: Int, hw: Int, training: Bool, channels: Range<Int>? = nil) {
    let m = Double(n * hw)
    for ch in channels ?? 0..<c {
        let mu = mean[ch], istd = invstd[ch]
        var sdy = 0.0, sdyx = 0.0
        for b in 0..<n {
            let xp = x + (b * c + ch) * hw, dp = dy + (b * c + ch) * hw
            for p in 0..<hw { sdy += Double(dp[p]); sdyx += Double(dp[p]) * Double((xp[p] - mu) * istd) }
        }
        dweight?[ch] += Float(sdyx)
        dbias?[ch] += Float(sdy)
        guard let dx else { continue }
        let g = (weight?[ch] ?? 1) * istd
        let a = training ? Float(sdy / m) : 0, bcoef = training ? Float(sdyx / m) : 0
        for b in 0..<n {
            let xp = x + (b * c + ch) * hw, dp = dy + (b * c + ch) * hw, dxp = dx + (b * c + ch) * hw
            for p in 0..<hw { dxp[p] += g * (dp[p] - a - (xp[p] - mu) * istd * bcoef) }
        }
    }
}
