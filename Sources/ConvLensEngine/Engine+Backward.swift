import ConvLensGraph

extension Engine {
    /// Back-propagates from the last forward pass. `dLogits` is ∂loss/∂(main output); `auxGradients`
    /// (optional) are ∂loss/∂(aux head output) in `graph.auxOutputs` order. Parameter gradients
    /// accumulate into `gradients`; returns ∂loss/∂input (zeros unless `inputGradient`).
    /// Activations are released as the pass goes; run `forward` again before another backward.
    @discardableResult
    public func backward(_ dLogits: Tensor, auxGradients: [Tensor] = [], inputGradient: Bool = true) throws(EngineError) -> Tensor {
        guard usesArena else { return try backwardPass(dLogits, auxGradients: auxGradients, inputGradient: inputGradient) }
        return try arena.with { () throws(EngineError) -> Tensor in
            try backwardPass(dLogits, auxGradients: auxGradients, inputGradient: inputGradient)
        }
    }

    private func backwardPass(_ dLogits: Tensor, auxGradients: [Tensor], inputGradient: Bool) throws(EngineError) -> Tensor {
        guard !executed.isEmpty, let input = lastInput else {
            throw EngineError("backward needs a forward pass with retainForBackward (and runs once per forward)")
        }
        weightsChanged()      // an optimizer step usually follows
        var grads = [Tensor?](repeating: nil, count: graph.nodes.count)
        grads[graph.output] = dLogits.copy().reshaped(graph.nodes[graph.output].outputShape)
        for (a, g) in zip(graph.auxOutputs, auxGradients) where executed.contains(a) {
            if let existing = grads[a] { existing.add(g) } else { grads[a] = g.copy().reshaped(graph.nodes[a].outputShape) }
        }
        // The input's gradient only when asked for: a training step does not hold an input-sized
        // buffer through the whole backward pass (torch computes none for an input that does not
        // require grad).
        let dInput: Tensor? = inputGradient ? Tensor(zeros: input.shape) : nil
        for i in executed.reversed() {
            guard let dy = grads[i] else { outputs[i] = nil; continue }
            let node = graph.nodes[i]
            // A max pool that applied a fused ReLU sends its gradient past the ReLU, to its input.
            let targets = node.inputs.map { j in j >= 0 && plan[j].reluFusedIntoPool ? graph.nodes[j].inputs[0] : j }
            if let t = targets.first, targets.count == 1, t >= 0, grads[t] == nil, passesGradientInPlace(node) {
                // The input's first gradient, from an elementwise node: dy's buffer becomes it.
                try passGradientInPlace(node, dy: dy, y: outputs[i])
                grads[t] = dy.reshaped(graph.nodes[t].outputShape)
            } else {
                // Gradient buffers of the inputs (nil = not wanted: the model input without inputGradient).
                var dxs: [Tensor?] = []
                for j in targets {
                    if j < 0 { dxs.append(dInput); continue }
                    if grads[j] == nil { grads[j] = Tensor(zeros: graph.nodes[j].outputShape) }
                    dxs.append(grads[j])
                }
                let xs = node.inputs.map { $0 < 0 ? input : outputs[$0] }
                try backwardNode(node, dy: dy, dxs: dxs, xs: xs, y: outputs[i])
            }
            grads[i] = nil
            outputs[i] = nil
            saved[i] = nil
        }
        executed = []
        return dInput ?? Tensor(zeros: input.shape)
    }

    func missingSaved(_ node: GraphNode, _ what: String) -> EngineError {
        EngineError("\(node.name): backward found no \(what) from the forward pass (a gradient would silently be wrong)")
    }

    func grad(_ key: String?) -> UnsafeMutablePointer<Float>? { key.flatMap { gradients[$0]?.data } }

    /// Nodes whose backward can turn dy into their input's gradient in place (when that input has
    /// no gradient yet): saves a zero-filled buffer and a pass adding into it.
    func passesGradientInPlace(_ node: GraphNode) -> Bool {
        switch node.layer.kernel {
        case .relu, .dropout, .flatten, .identity: return true
        case .conv2d, .batchNorm2d, .linear, .maxPool2d, .avgPool2d, .adaptiveAvgPool2d, .concat, .add, .kernel: return false
        }
    }

    /// dy ← ∂loss/∂input for an elementwise node (ReLU: masked where its output is 0; dropout:
    /// times its mask; views: unchanged).
    func passGradientInPlace(_ node: GraphNode, dy: Tensor, y: Tensor?) throws(EngineError) {
        switch node.layer.kernel {
        case .relu:
            guard let y else { throw missingSaved(node, "output") }
            let (dyp, yp) = (dy.data, y.data)
            parallelChunks(dy.count, work: dy.count) { r in reluMask(dyp + r.lowerBound, yp + r.lowerBound, count: r.count) }
        case .dropout(let l):
            if case .mask(let m) = saved[node.index] { let d = dy.data; for i in 0..<dy.count { d[i] *= m[i] } }
            else if lastTraining && l.probability > 0 { throw missingSaved(node, "dropout mask") }
        case .flatten, .identity: break     // views: the gradient passes unchanged
        case .conv2d, .batchNorm2d, .linear, .maxPool2d, .avgPool2d, .adaptiveAvgPool2d, .concat, .add, .kernel: break   // not in place
        }
    }

    /// One node's backward kernel: accumulates into dxs and the parameter gradients.
    func backwardNode(_ node: GraphNode, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        let p = plan[node.index]
        var dx: UnsafeMutablePointer<Float>? { dxs[0]?.data }      // a parameter node has no inputs
        switch node.layer.kernel {
        case .conv2d:
            conv2dBackward(dx, grad(p.weight)!, grad(p.bias), dy.data, xs[0]!.data, param(p.weight)!, p.conv!, col: col.data)
        case .linear(let l):
            let x = xs[0]!
            linearBackward(dx, grad(p.weight)!, grad(p.bias), dy.data, x.data, param(p.weight)!,
                           rows: x.count / l.inFeatures, inFeatures: l.inFeatures, outFeatures: l.outFeatures)
        case .batchNorm2d:
            let x = xs[0]!
            guard case .stats(let mean, let invstd) = saved[node.index] else { throw missingSaved(node, "batch statistics") }
            let (gw, gb, dyp, xp, wp, mp, ip) = (grad(p.weight), grad(p.bias), dy.data, x.data, param(p.weight), mean.data, invstd.data)
            let (n, c, hw, batchStats) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3], lastTraining || p.runningMean == nil)
            parallelChunks(c, work: x.count) { r in
                batchNorm2dBackward(dx, gw, gb, dyp, xp, wp, mp, ip, n: n, c: c, hw: hw, training: batchStats, channels: r)
            }
        case .maxPool2d:
            guard case .indices(let idx) = saved[node.index] else { throw missingSaved(node, "max-pool choices") }
            guard let dx else { return }
            let s = node.inputShapes[0]
            let mask = p.poolAppliesRelu ? UnsafePointer(y!.data) : nil      // the fused ReLU passes where the output is > 0
            idx.withUnsafeBufferPointer {
                maxPool2dBackward(dx, dy.data, $0.baseAddress!, planes: s[0] * s[1], h: s[2], w: s[3], oh: dy.shape[2], ow: dy.shape[3],
                                  positive: mask)
            }
        case .avgPool2d(let l):
            guard let dx else { return }
            let s = node.inputShapes[0]
            avgPool2dBackward(dx, dy.data, planes: s[0] * s[1], h: s[2], w: s[3], oh: dy.shape[2], ow: dy.shape[3], l.window!, countIncludePad: l.countIncludePad)
        case .adaptiveAvgPool2d:
            guard let dx else { return }
            let s = node.inputShapes[0]
            adaptiveAvgPool2dBackward(dx, dy.data, planes: s[0] * s[1], h: s[2], w: s[3], oh: dy.shape[2], ow: dy.shape[3])
        case .relu:
            guard let y else { throw missingSaved(node, "output") }
            guard let dx else { return }
            let (dyp, yp) = (dy.data, y.data)
            parallelChunks(dy.count, work: dy.count) { r in reluBackward(dx + r.lowerBound, dyp + r.lowerBound, yp + r.lowerBound, count: r.count) }
        case .dropout(let l):
            let mask: Tensor?
            if case .mask(let m) = saved[node.index] { mask = m } else { mask = nil }
            if mask == nil && lastTraining && l.probability > 0 { throw missingSaved(node, "dropout mask") }
            guard let dx else { return }
            if let mask { dropoutBackward(dx, dy.data, mask.data, count: dy.count) } else { accumulate(dx, dy.data, count: dy.count) }
        case .flatten, .identity:
            guard let dx else { return }
            accumulate(dx, dy.data, count: dy.count)
        case .add:
            for d in dxs { if let d { accumulate(d.data, dy.data, count: dy.count) } }
        case .concat(let l):
            let d = l.dim < 0 ? l.dim + dy.shape.count : l.dim
            concatBackward(dxs.map { $0?.data }, dy.data, sizes: node.inputShapes.map { $0[d] },
                           outer: dy.shape[..<d].reduce(1, *), inner: dy.shape[(d + 1)...].reduce(1, *))
        case .kernel(let k):
            try k.backward(KernelCall(engine: self, node: node, training: lastTraining), dy: dy, dxs: dxs, xs: xs, y: y)
        }
    }
}
