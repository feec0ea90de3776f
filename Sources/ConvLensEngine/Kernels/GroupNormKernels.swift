import ConvLensGraph

// GroupNorm over x[N, C, *]: each (n, group) row of CG·S values (CG = C/G channels, S spatial
// elements) is normalised with its own mean and biased variance, then scaled per channel.
// Legend: N batch, C channels, G groups, CG channels per group, S spatial size.

/// y = (x − mean) · invstd · weight[c] + bias[c]; mean/invstd [N·G], for rows `rows` of N·G.
func groupNormForward(_ y: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>, _ invstd: UnsafeMutablePointer<Float>,
                      _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>?, _ bias: UnsafePointer<Float>?,
                      groups: Int, cg: Int, spatial: Int, eps: Double, rows: Range<Int>) {
    let len = cg * spatial
    for r in rows {
        let xr = x + r * len, yr = y + r * len
        let (mf, inv) = meanInvstd(xr, count: len, eps: eps)
        mean[r] = mf; invstd[r] = inv
        for k in 0..<cg {
            let c = (r % groups) * cg + k
            let (w, b) = (weight?[c] ?? 1, bias?[c] ?? 0)
            let xc = xr + k * spatial, yc = yr + k * spatial
            for q in 0..<spatial { yc[q] = (xc[q] - mf) * inv * w + b }
        }
    }
}

/// dx += invstd · (g − mean(g) − x̂ · mean(g · x̂)) per row, g = dy · weight[c].
func groupNormBackwardInput(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                            _ weight: UnsafePointer<Float>?, _ mean: UnsafePointer<Float>, _ invstd: UnsafePointer<Float>,
                            groups: Int, cg: Int, spatial: Int, rows: Range<Int>) {
    let len = cg * spatial
    for r in rows {
        let at = r * len, (m, inv) = (mean[r], invstd[r])
        var sg = 0.0, sgx = 0.0
        for k in 0..<cg {
            let w = weight?[(r % groups) * cg + k] ?? 1
            for q in 0..<spatial { let i = at + k * spatial + q; let g = dy[i] * w; sg += Double(g); sgx += Double(g * (x[i] - m) * inv) }
        }
        let (mg, mgx) = (Float(sg / Double(len)), Float(sgx / Double(len)))
        for k in 0..<cg {
            let w = weight?[(r % groups) * cg + k] ?? 1
            for q in 0..<spatial { let i = at + k * spatial + q; dx[i] += inv * (dy[i] * w - mg - (x[i] - m) * inv * mgx) }
        }
    }
}

extension GroupNorm: KindKernel {
    var keeps: KernelKeeps { .inputs }
    func parameterKeys(_ call: KernelCall) -> [String] { ["weight", "bias"].map(call.key).filter { call.engine.gradients[$0] != nil } }
    var probe: GradientProbe { .smooth }

    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0]
        let (n, spatial, cg) = (x.shape[0], x.shape[2...].reduce(1, *), numChannels / numGroups)
        let y = Tensor(uninitialized: x.shape), mean = Tensor(uninitialized: [n * numGroups]), invstd = Tensor(uninitialized: [n * numGroups])
        let (yp, mp, ip, xp, wp, bp, g, eps) = (y.data, mean.data, invstd.data, x.data, call.parameter("weight")?.data, call.parameter("bias")?.data,
                                               numGroups, eps.doubleValue ?? 1e-5)
        parallelChunks(n * g, work: 4 * x.count) { r in groupNormForward(yp, mp, ip, xp, wp, bp, groups: g, cg: cg, spatial: spatial, eps: eps, rows: r) }
        call.save([mean, invstd])
        return y
    }

    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        let x = try call.input(xs), st = try call.savedTensors(2)
        let (n, spatial, cg, g) = (x.shape[0], x.shape[2...].reduce(1, *), numChannels / numGroups, numGroups)
        let (dyp, xp, wp, mp, ip) = (dy.data, x.data, call.parameter("weight")?.data, st[0].data, st[1].data)
        let (gw, gb) = (call.gradient("weight")?.data, call.gradient("bias")?.data)
        if gw != nil || gb != nil {
            for c in 0..<numChannels {
                var sw = 0.0, sb = 0.0
                for b in 0..<n {
                    let r = b * g + c / cg, at = (b * numChannels + c) * spatial
                    for q in 0..<spatial { let d = dyp[at + q]; sw += Double(d * (xp[at + q] - mp[r]) * ip[r]); sb += Double(d) }
                }
                gw?[c] += Float(sw); gb?[c] += Float(sb)
            }
        }
        guard let dx = dxs[0]?.data else { return }
        parallelChunks(n * g, work: 4 * x.count) { r in groupNormBackwardInput(dx, dyp, xp, wp, mp, ip, groups: g, cg: cg, spatial: spatial, rows: r) }
    }
}
