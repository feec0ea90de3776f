import CKernels

// 1×1 convolutions (stride 1, no padding, one group) on the eval fast path, by ConvLens's own
// register-tiled kernel (CKernels/pointwise.c) instead of sgemm. The GEMM itself is the easy
// part: MobileNet's early expansions (16 → 96 channels at 112², K = 16) and its projections to
// 24–32 channels are bound by memory traffic, and the sgemm route passes over the output three
// times (the planes set to the bias, sgemm's C = A·B + C, the epilogue). Here each output element
// is stored once, with its bias, residual and ReLU/ReLU6 clamp already applied. Convolutions
// followed by other activations keep the sgemm route (`Engine.takesPackedPointwise`).
//
// The filters are packed once per weights into panels of six output channels
// (`Engine.refreshFoldedWeights`), like Winograd's. The columns — pixels of all the batch's images,
// N·OH·OW of them — are cut into chunks whose packed inputs fit a core's cache, and the chunks
// (and, when they are few, ranges of output channels) are shared between the threads, so batch 1
// uses every core as well as batch 8.

extension ConvGeometry {
    /// Floats of the filters the fast path transforms once per weights and passes in
    /// `ConvEpilogue.transformedFilters` (0: none, the kernel reads the weights).
    var transformedFilterCount: Int {
        if packedPointwise { return convlens_pointwise_packed_count(oc, k) }
        return winograd && winogradFiltersGiven ? winogradPositions * oc * c : 0
    }

    /// Columns per work item: the packed inputs (K floats a column) within 512 KB, half this
    /// machine's L2, 16 to 1024 columns. Against 128 KB and 256 KB, in-process A/B (medians of
    /// 15): batch 1 of MobileNetV2 7.13 ms against 7.41 and 7.57 (sgemm 7.70), ResNet50 48.8
    /// against 50.0 and 50.6 (sgemm 48.6): with K = 2048 at 7×7, a 128 KB chunk is 16 columns,
    /// and the filters were streamed from L3 once per 16.
    var pointwiseChunk: Int { min(1024, max(16, 131_072 / max(k, 1) / 16 * 16)) }

    /// Floats of scratch: one chunk of packed columns per ConvLens thread.
    var pointwiseColCount: Int { BLAS.threads * pointwiseChunk * k }
}

/// The clamp the packed kernel applies for activation `a`, as the unfused kernels compute it
/// (ReLU x > 0 ? x : 0, so NaN → 0; ReLU6 keeps NaN); nil when `a` is not a clamp, and the
/// convolution keeps sgemm (`Engine.takesPackedPointwise`).
func pointwiseClamp(_ a: EpilogueActivation?) -> convlens_clamp? {
    switch a {
    case nil: return convlens_clamp(lo: -.infinity, hi: .infinity, nan_to_lo: 0)
    case .relu?: return convlens_clamp(lo: 0, hi: .infinity, nan_to_lo: 1)
    case .function(let f)?: return f.function == .relu6 ? convlens_clamp(lo: 0, hi: 6, nan_to_lo: 0) : nil
    }
}

/// y[N, OC, H, W] = epilogue(W·x + bias) for a 1×1 convolution whose filters `packed` were packed
/// by `convlens_pointwise_pack`; the epilogue's activation is none, ReLU or ReLU6. `col` holds
/// g.colCount floats. Returns the MACs.
func conv2dForwardPointwise(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                            _ bias: UnsafePointer<Float>?, _ g: ConvGeometry, col: UnsafeMutablePointer<Float>,
                            epilogue: ConvEpilogue) -> Int {
    guard let clamp = pointwiseClamp(epilogue.activation) else { preconditionFailure("the packed 1×1 kernel only clamps") }
    let columns = g.n * g.ohw, threads = BLAS.threads, chunk = g.pointwiseChunk
    // At least one chunk per thread (while there are 16 columns for each), equal in size.
    let wanted = max((columns + chunk - 1) / chunk, min(threads, (columns + 15) / 16))
    let per = ((columns + wanted - 1) / wanted + 15) / 16 * 16
    let chunks = (columns + per - 1) / per
    // Too few chunks to keep every thread busy twice over: output channels are split too.
    let panels = (g.oc + 5) / 6
    let ocParts = chunks >= 2 * threads ? 1 : max(1, min(panels, (2 * threads + chunks - 1) / chunks))
    let items = chunks * ocParts
    let share = chunk * g.k
    let residual = epilogue.residual
    // Item i is chunk i / ocParts, output channels part i % ocParts; thread t takes items t,
    // t + threads, … (a fixed share, so that its scratch is its own).
    Workers.perform(iterations: min(threads, items)) { t in
        for i in stride(from: t, to: items, by: threads) {
            let j0 = i / ocParts * per, j1 = min(columns, j0 + per)
            let part = i % ocParts
            let o0 = part * panels / ocParts * 6, o1 = min(g.oc, (part + 1) * panels / ocParts * 6)
            guard o0 < o1 else { continue }
            convlens_pointwise(y, x, packed, bias, residual, g.oc, g.k, g.ohw, j0, j1, o0, o1, clamp, col + t * share)
        }
    }
    return g.macs
}
