import ConvLensGraph

extension Engine {
    /// Runs the graph on `input` (shape = the graph's input shape) and returns the main output.
    /// `training` is PyTorch's train mode: batch statistics in batch norm (running statistics
    /// updated), dropout active, auxiliary heads run. `retainForBackward: false` frees every
    /// activation once its consumers have run (inference); `backward` then cannot be called.
    /// An engine built with `fuse: true` runs such an eval pass on its fast path (InferencePlan.swift):
    /// batch norms folded into convolutions, residual adds and activations in their epilogues.
    public func forward(_ input: Tensor, training: Bool, retainForBackward: Bool = true) throws(EngineError) -> Tensor {
        outputs = []; saved = []      // the last pass's tensors go back to the arena first
        guard usesArena else { return try forwardPass(input, training: training, retainForBackward: retainForBackward) }
        arena.endStep()
        return try arena.with { () throws(EngineError) -> Tensor in
            try forwardPass(input, training: training, retainForBackward: retainForBackward)
        }
    }

    private func forwardPass(_ input: Tensor, training: Bool, retainForBackward: Bool) throws(EngineError) -> Tensor {
        guard input.shape == graph.inputShape else {
            throw EngineError("input has shape \(input.shape) but \(graph.name) was built for \(graph.inputShape)")
        }
        if training, let problem = graph.trainingProblem { throw EngineError("\(graph.name) cannot run in train mode: \(problem.description)") }
        let nodes = graph.nodes(training: training)
        outputs = Array(repeating: nil, count: graph.nodes.count)
        saved = Array(repeating: nil, count: graph.nodes.count)
        executed = nodes.map(\.index)
        lastTraining = training
        lastInput = input
        forwardMACs = 0
        if training { weightsChanged() }      // running statistics (and the step that follows) change the weights
        if usesInferencePlan(training: training, retainForBackward: retainForBackward) {
            executed = []
            return try forwardInference(input)
        }
        // Remaining forward consumers per node, to free activations early.
        var remaining = [Int](repeating: 0, count: graph.nodes.count)
        for n in nodes { for i in n.inputs where i >= 0 { remaining[i] += 1 } }
        var keep = [Bool](repeating: false, count: graph.nodes.count)
        keep[graph.output] = true
        for a in graph.auxOutputs { keep[a] = true }
        if retainForBackward {
            for n in nodes {
                if plan[n.index].needsOutput { keep[n.index] = true }
                if plan[n.index].needsInputs { for i in n.inputs where i >= 0 { keep[i] = true } }
            }
        }
        for node in nodes {
            let xs = node.inputs.map { $0 < 0 ? input : outputs[$0]! }
            if plan[node.index].reluFusedIntoPool {
                outputs[node.index] = xs[0]      // the ReLU's input: its max pool applies the ReLU
            } else {
                let y = try run(node, xs, training: training)
                guard y.shape == node.outputShape else {
                    throw EngineError("\(node.name): produced shape \(y.shape) but the graph says \(node.outputShape)")
                }
                outputs[node.index] = y
            }
            for i in node.inputs where i >= 0 {
                remaining[i] -= 1
                if remaining[i] == 0 && !keep[i] { outputs[i] = nil }
            }
        }
        if !retainForBackward { executed = [] }
        return outputs[graph.output]!
    }

    func param(_ key: String?) -> UnsafeMutablePointer<Float>? { key.flatMap { state[$0]?.data } }

    /// One node's forward kernel.
    func run(_ node: GraphNode, _ xs: [Tensor], training: Bool) throws(EngineError) -> Tensor {
        let p = plan[node.index]
        var x: Tensor { xs[0] }      // the first input (a parameter node has none)
        switch node.layer.kernel {
        case .conv2d:
            let y = Tensor(uninitialized: node.outputShape)
            forwardMACs += conv2dForward(y.data, x.data, param(p.weight)!, param(p.bias), p.conv!, col: col.data)
            return y
        case .linear(let l):
            let y = Tensor(uninitialized: node.outputShape)
            forwardMACs += linearForward(y.data, x.data, param(p.weight)!, param(p.bias), rows: x.count / l.inFeatures,
                                         inFeatures: l.inFeatures, outFeatures: l.outFeatures)
            return y
        case .batchNorm2d(let l):
            let y = Tensor(uninitialized: node.outputShape)
            let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
            let mean = Tensor(zeros: [c]), invstd = Tensor(zeros: [c])
            let batchStats = training || p.runningMean == nil
            if batchStats {
                if n * hw <= 1 && training {
                    throw EngineError("\(node.name): expected more than 1 value per channel when training, got input size \(x.shape)")
                }
                var momentum = calibratesRunningStatistics ? 1 / Double(max(calibrationPass, 1)) : l.momentumValue
                if training, let nb = p.numBatches {
                    state[nb]![0] += 1
                    if case .null = l.momentum, !calibratesRunningStatistics { momentum = 1 / Double(state[nb]![0]) }   // cumulative moving average
                }
                let (yp, mp, ip, xp, wp, bp) = (y.data, mean.data, invstd.data, x.data, param(p.weight), param(p.bias))
                let (rm, rv) = (training ? param(p.runningMean) : nil, training ? param(p.runningVar) : nil)
                parallelChunks(c, work: x.count) { r in
                    batchNorm2dTrainForward(yp, mp, ip, xp, wp, bp, runningMean: rm, runningVar: rv,
                                            n: n, c: c, hw: hw, eps: l.epsValue, momentum: momentum, channels: r)
                }
            } else {
                let (yp, mp, ip, xp, wp, bp) = (y.data, mean.data, invstd.data, x.data, param(p.weight), param(p.bias))
                let (rm, rv) = (param(p.runningMean)!, param(p.runningVar)!)
                parallelChunks(c, work: x.count) { r in
                    batchNorm2dEvalForward(yp, mp, ip, xp, wp, bp, runningMean: rm, runningVar: rv, n: n, c: c, hw: hw, eps: l.epsValue, channels: r)
                }
            }
            saved[node.index] = .stats(mean: mean, invstd: invstd)
            return y
        case .maxPool2d(let l):
            let y = Tensor(uninitialized: node.outputShape)
            if let idx = frozen?.pool[node.index] {
                let (hw, ohw) = (x.shape[2] * x.shape[3], y.shape[2] * y.shape[3])
                // A pool that applies a fused ReLU keeps its ReLU decisions too (where its output
                // was > 0 at the base point).
                let mask = p.poolAppliesRelu ? frozen?.poolRelu[node.index] : nil
                for q in 0..<y.count {
                    let v = x.data[(q / ohw) * hw + Int(idx[q])]
                    y[q] = mask.map { $0[q] > 0 ? v : 0 } ?? v
                }
                saved[node.index] = .indices(idx)
                return y
            }
            var idx = [Int32](unsafeUninitializedCapacity: y.count) { _, n in n = y.count }   // every entry is written below
            idx.withUnsafeMutableBufferPointer { ib in
                let (yp, ip, xp, h, w, oh, ow) = (y.data, ib.baseAddress!, x.data, x.shape[2], x.shape[3], y.shape[2], y.shape[3])
                parallelChunks(x.shape[0] * x.shape[1], work: x.count) { r in
                    maxPool2dForward(yp + r.lowerBound * oh * ow, ip + r.lowerBound * oh * ow, xp + r.lowerBound * h * w,
                                     planes: r.count, h: h, w: w, oh: oh, ow: ow, l.window!)
                }
            }
            saved[node.index] = .indices(idx)
            if p.poolAppliesRelu {
                let yp = y.data
                parallelChunks(y.count, work: y.count) { r in reluForward(yp + r.lowerBound, yp + r.lowerBound, count: r.count) }
            }
            return y
        case .avgPool2d(let l):
            let y = Tensor(uninitialized: node.outputShape)
            avgPool2dForward(y.data, x.data, planes: x.shape[0] * x.shape[1], h: x.shape[2], w: x.shape[3], oh: y.shape[2], ow: y.shape[3],
                             l.window!, countIncludePad: l.countIncludePad)
            return y
        case .adaptiveAvgPool2d:
            let y = Tensor(uninitialized: node.outputShape)
            adaptiveAvgPool2dForward(y.data, x.data, planes: x.shape[0] * x.shape[1], h: x.shape[2], w: x.shape[3], oh: y.shape[2], ow: y.shape[3])
            return y
        case .relu:
            let y = Tensor(uninitialized: node.outputShape)
            if let mask = frozen?.relu[node.index] {
                for i in 0..<y.count { y[i] = mask[i] > 0 ? x[i] : 0 }
                return y
            }
            let (yp, xp) = (y.data, x.data)
            parallelChunks(x.count, work: x.count) { r in reluForward(yp + r.lowerBound, xp + r.lowerBound, count: r.count) }
            return y
        case .dropout(let l):
            guard training, !calibratesRunningStatistics, l.probability > 0 else { return x }
            let y = Tensor(uninitialized: node.outputShape), mask = Tensor(uninitialized: node.outputShape)
            dropoutForward(y.data, mask.data, x.data, count: x.count, p: l.probability, rng: &rng)
            saved[node.index] = .mask(mask)
            return y
        case .flatten, .identity:
            return x.reshaped(node.outputShape)
        case .add:
            let y = Tensor(uninitialized: node.outputShape)
            let (yp, ap) = (y.data, x.data)
            if xs.count == 2 {
                let bp = xs[1].data
                parallelChunks(y.count, work: y.count) { r in sum(yp + r.lowerBound, ap + r.lowerBound, bp + r.lowerBound, count: r.count) }
            } else {
                yp.update(from: ap, count: y.count)
                for other in xs.dropFirst() { accumulate(yp, other.data, count: y.count) }
            }
            return y
        case .concat(let l):
            let y = Tensor(uninitialized: node.outputShape)
            let d = l.dim < 0 ? l.dim + y.shape.count : l.dim
            concatForward(y.data, xs.map { UnsafePointer($0.data) }, sizes: xs.map { $0.shape[d] },
                          outer: y.shape[..<d].reduce(1, *), inner: y.shape[(d + 1)...].reduce(1, *))
            return y
        case .kernel(let k):
            return try k.forward(KernelCall(engine: self, node: node, training: training), xs)
        }
    }
}
