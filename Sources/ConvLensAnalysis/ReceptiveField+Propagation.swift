import ConvLensGraph

extension ReceptiveField {
    /// The field after a sliding window (Araujo et al. 2019, eqs. for r, j, u), per axis:
    ///   k' = d·(k − 1) + 1            (dilated kernel span)
    ///   r_out = r_in + (k' − 1)·j_in
    ///   j_out = j_in · s
    ///   u_out = u_in − p·j_in
    func through(_ w: Window) throws(FieldOverflow) -> ReceptiveField {
        var out = self
        for a in 0..<2 {
            let span = try FieldOverflow.mul(w.dilation[a], w.kernel[a] - 1) + 1
            out.size[a] = try FieldOverflow.add(size[a], try FieldOverflow.mul(span - 1, jump[a]))
            out.jump[a] = try FieldOverflow.mul(jump[a], w.stride[a])
            out.left[a] = try FieldOverflow.add(left[a], -(try FieldOverflow.mul(w.padding[a], jump[a])))
        }
        return out
    }

    /// The union over merged branches (torch.cat, residual add): from the leftmost first pixel to
    /// the rightmost last pixel. Flags the result when jumps or centres disagree.
    static func union(_ all: [ReceptiveField]) throws(FieldOverflow) -> ReceptiveField {
        let fields = all.allSatisfy(\.constant) ? all : all.filter { !$0.constant }
        guard var out = fields.first else { return .input }
        guard fields.count > 1 else { return out }
        for a in 0..<2 {
            let lo = fields.map { $0.left[a] }.min()!
            let hi = fields.map { $0.left[a] + $0.size[a] - 1 }.max()!     // |left|, size ≤ FieldOverflow.limit: no overflow
            out.left[a] = lo
            out.size[a] = try FieldOverflow.add(hi - lo, 1)
            out.jump[a] = fields.map { $0.jump[a] }.max()!
        }
        let jumpsAgree = fields.allSatisfy { $0.jump == fields[0].jump }
        let centresAgree = fields.allSatisfy { $0.start == fields[0].start }
        out.aligned = fields.allSatisfy(\.aligned) && jumpsAgree && centresAgree
        return out
    }

    /// The field of a node's output given its inputs' fields.
    /// With `spatialOnly`, a merge ignores inputs broadcast over H and W (1×1 maps multiplied
    /// back: squeeze-excitation's scale), giving the field of the spatial path alone.
    static func of(_ node: GraphNode, inputs all: [ReceptiveField], spatialOnly: Bool = false) throws(FieldOverflow) -> ReceptiveField {
        // The common case, one input through a window or element-wise op: no merging to do.
        if all.count == 1 && !all[0].constant {
            switch node.spec.spatial(node.call(training: false)) {
            case .pointwise, .merge: return all[0]
            case .window(let w): return try all[0].through(w)
            case .adaptive, .global: break
            }
        }
        var inputs = all
        if spatialOnly, node.outputShape.count == 4 {
            let kept = zip(node.inputShapes, all).filter { $0.0.count == 4 && $0.0[2] == node.outputShape[2] && $0.0[3] == node.outputShape[3] }.map(\.1)
            if !kept.isEmpty { inputs = kept }
        }
        var merged = try union(inputs)
        // A 1×1 map broadcast over H×W (squeeze-excitation's scale) widens the field to the union
        // but does not change the spacing of the output units: the jump is the full-size inputs'.
        if node.outputShape.count == 4 {
            let full = zip(node.inputShapes, inputs).filter { $0.0.count == 4 && $0.0[2] == node.outputShape[2] && $0.0[3] == node.outputShape[3] && !$0.1.constant }
            if !full.isEmpty && full.count < inputs.filter({ !$0.constant }).count {
                for a in 0..<2 { merged.jump[a] = full.map { $0.1.jump[a] }.max()! }
            }
        }
        if all.allSatisfy(\.constant) && !all.isEmpty { return .constantValue }
        if node.inputs.isEmpty { return .constantValue }     // a parameter: no input pixels at all
        let x = node.inputShapes.first ?? []
        switch node.spec.spatial(node.call(training: false)) {
        case .pointwise, .merge:
            return merged
        case .window(let w):
            return try merged.through(w)
        case .adaptive(let outputSize):
            // Bin i of n inputs → o outputs spans [⌊i·n/o⌋, ⌈(i+1)·n/o⌉). Uniform when o divides n
            // (kernel = stride = n/o); otherwise the widest bin and the mean stride, flagged.
            var w = Window(kernel: [1, 1], stride: [1, 1], padding: [0, 0])
            var uniform = true
            for a in 0..<2 {
                let n = x[2 + a], o = outputSize[a]
                if n % o == 0 {
                    w.kernel[a] = n / o; w.stride[a] = n / o
                } else {
                    uniform = false
                    w.kernel[a] = AdaptiveAvgPool2d.maxBinWidth(input: n, output: o)
                    w.stride[a] = max(1, n / o)
                }
            }
            var out = try merged.through(w)
            out.aligned = out.aligned && uniform
            return out
        case .global:
            // Every output unit sees the whole H×W map (flatten before a Linear, mean over H, W).
            guard x.count == 4 else { return merged }
            return try merged.through(Window(kernel: [x[2], x[3]], stride: [x[2], x[3]], padding: [0, 0]))
        }
    }
}

/// A receptive field's size, jump or start beyond ±2^61 pixels (the product of many large strides):
/// the analyzer reports it as an error naming the node. Within the limit every step of the
/// propagation (and the union's left + size) fits in an Int.
struct FieldOverflow: Error {
    static let limit = 1 << 61
    static func mul(_ a: Int, _ b: Int) throws(FieldOverflow) -> Int {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        guard !o, abs(r) <= limit else { throw FieldOverflow() }
        return r
    }
    static func add(_ a: Int, _ b: Int) throws(FieldOverflow) -> Int {
        let (r, o) = a.addingReportingOverflow(b)
        guard !o, abs(r) <= limit else { throw FieldOverflow() }
        return r
    }
}
