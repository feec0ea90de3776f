import ConvLensGraph

// The broadcast multiply (squeeze-excitation's x · scale[N, C, 1, 1], ConvNeXt's layer_scale[C, 1, 1] · x).

/// Two operands broadcast to an output shape, with runs of axes that broadcast alike merged: SE's
/// [N, C, H, W] × [N, C, 1, 1] is rows [N·C] of H·W with strides (H·W, 1) and (1, 0).
struct BroadcastPlan {
    var sizes: [Int] = []
    var strideA: [Int] = []
    var strideB: [Int] = []
    var inner: Int { sizes.last! }
    var rows: Int { sizes.dropLast().reduce(1, *) }

    init(_ a: [Int], _ b: [Int], output: [Int]) {
        func strides(_ s: [Int]) -> [Int] {
            let padded = Array(repeating: 1, count: output.count - s.count) + s
            var st = [Int](repeating: 0, count: output.count), acc = 1
            for i in stride(from: output.count - 1, through: 0, by: -1) {
                st[i] = padded[i] == 1 && output[i] != 1 ? 0 : acc
                acc *= padded[i]
            }
            return st
        }
        let (sa, sb) = (strides(a), strides(b))
        for i in output.indices where output[i] != 1 {
            if let n = sizes.last, strideA.last! == sa[i] * output[i], strideB.last! == sb[i] * output[i] {
                sizes[sizes.count - 1] = n * output[i]; strideA[strideA.count - 1] = sa[i]; strideB[strideB.count - 1] = sb[i]
            } else {
                sizes.append(output[i]); strideA.append(sa[i]); strideB.append(sb[i])
            }
        }
        if sizes.isEmpty { sizes = [1]; strideA = [1]; strideB = [1] }
    }

    /// The operands' offsets of output row `row` (all axes but the last).
    @inline(__always)
    func offsets(_ row: Int) -> (Int, Int) {
        var rem = row, oa = 0, ob = 0
        for i in stride(from: sizes.count - 2, through: 0, by: -1) {
            let k = rem % sizes[i]; rem /= sizes[i]
            oa += k * strideA[i]; ob += k * strideB[i]
        }
        return (oa, ob)
    }
    /// Whether an operand is broadcast over a row axis (its gradient sums across rows: not split over threads).
    func sharedAcrossRows(_ strides: [Int]) -> Bool { strides.dropLast().contains(0) }
}

/// y = a · b, broadcast, for output rows `rows`.
func mulForward(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ p: BroadcastPlan, rows: Range<Int>) {
    let (n, ia, ib) = (p.inner, p.strideA.last!, p.strideB.last!)
    for row in rows {
        let (oa, ob) = p.offsets(row)
        let (yr, ar, br) = (y + row * n, a + oa, b + ob)
        switch (ia, ib) {
        case (1, 1): for i in 0..<n { yr[i] = ar[i] * br[i] }
        case (1, 0): let s = br[0]; for i in 0..<n { yr[i] = ar[i] * s }
        case (0, 1): let s = ar[0]; for i in 0..<n { yr[i] = s * br[i] }
        default: for i in 0..<n { yr[i] = ar[i * ia] * br[i * ib] }
        }
    }
}

/// da += dy · b, summed over the axes a is broadcast along, for output rows `rows`.
func mulBackward(_ da: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ p: BroadcastPlan,
                 strideA: [Int], strideB: [Int], rows: Range<Int>) {
    let q = BroadcastPlan(sizes: p.sizes, strideA: strideA, strideB: strideB)
    let (n, ia, ib) = (p.inner, strideA.last!, strideB.last!)
    for row in rows {
        let (oa, ob) = q.offsets(row)
        let (g, dr, br) = (dy + row * n, da + oa, b + ob)
        switch (ia, ib) {
        case (1, 1): for i in 0..<n { dr[i] += g[i] * br[i] }
        case (1, 0): let s = br[0]; for i in 0..<n { dr[i] += g[i] * s }
        case (0, 1): var s: Float = 0; for i in 0..<n { s += g[i] * br[i] }; dr[0] += s
        default: for i in 0..<n { dr[i * ia] += g[i] * br[i * ib] }
        }
    }
}

extension BroadcastPlan {
    init(sizes: [Int], strideA: [Int], strideB: [Int]) { self.sizes = sizes; self.strideA = strideA; self.strideB = strideB }
}

extension Mul: KindKernel {
    var keeps: KernelKeeps { .inputs }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    var probe: GradientProbe { .smooth }

    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let y = Tensor(uninitialized: call.node.outputShape)
        let p = BroadcastPlan(xs[0].shape, xs[1].shape, output: y.shape)
        let (yp, ap, bp) = (y.data, xs[0].data, xs[1].data)
        parallelChunks(p.rows, work: y.count) { r in mulForward(yp, ap, bp, p, rows: r) }
        return y
    }

    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        let (a, b) = (try call.input(xs, 0), try call.input(xs, 1))
        let p = BroadcastPlan(a.shape, b.shape, output: dy.shape)
        let dyp = dy.data
        for (k, dx) in dxs.enumerated() {
            guard let dx = dx?.data else { continue }
            // ∂(a·b)/∂a = b and ∂/∂b = a: the same loop with the operands' roles swapped.
            let (other, mine, theirs) = k == 0 ? (b.data, p.strideA, p.strideB) : (a.data, p.strideB, p.strideA)
            if p.sharedAcrossRows(mine) {
                mulBackward(dx, dyp, other, p, strideA: mine, strideB: theirs, rows: 0..<p.rows)
            } else {
                parallelChunks(p.rows, work: dy.count) { r in mulBackward(dx, dyp, other, p, strideA: mine, strideB: theirs, rows: r) }
            }
        }
    }
}
