import ConvLensGraph

extension Engine {
    /// Central differences for one node on random inputs: L = Σ y·R. Returns the worst relative
    /// error over sampled input and parameter coordinates, and how many were checked.
    /// The engine's state (running statistics, dropout stream, gradients) is restored afterwards.
    func localGradientCheck(_ node: GraphNode, training: Bool, samples: Int, rng: inout RandomSource) -> (Double, Int) {
        if outputs.count != graph.nodes.count { outputs = Array(repeating: nil, count: graph.nodes.count) }
        if saved.count != graph.nodes.count { saved = Array(repeating: nil, count: graph.nodes.count) }
        // The step: large (1e-1) wherever the layer is smooth — conv, linear, pooling averages, add,
        // concat are even exactly linear in each tensor — because one coordinate's change reaches
        // many outputs (all N·H·W of a channel for batch norm or a conv weight), whose float32
        // roundings add up as noise ∝ 1/h. Small (1e-2) for ReLU and max pooling, whose inputs are
        // drawn 0.05 / 0.03 away from a kink or tie.
        var h: Float
        switch node.layer.kernel {
        case .relu, .maxPool2d: h = 1e-2
        case .kernel(let k): h = k.probe.step
        case .conv2d, .batchNorm2d, .linear, .avgPool2d, .adaptiveAvgPool2d, .dropout, .flatten, .identity, .concat, .add: h = 1e-1
        }
        // Train-mode batch norm over a handful of values per channel is strongly curved (over two
        // it is nearly a sign function): there the small step too.
        if training, case .batchNorm2d = node.layer.kernel, let s = node.inputShapes.first, s.count == 4, s[0] * s[2] * s[3] <= 16 { h = 1e-2 }
        // Inputs: N(0,1), kept 0.05 away from ReLU's kink; for max pooling values a window never ties.
        let xs: [Tensor] = node.inputShapes.map { shape in
            let t = Tensor(zeros: shape)
            switch node.layer.kernel {
            case .maxPool2d:
                // x_i = ((a·i + b) mod 1009)·0.03 − 15: values in one window (index distance < 1009
                // for planes narrower than ~500) are distinct and ≥ 0.03 > 2h apart.
                let a = Int(rng.next() % 1008) + 1, b = Int(rng.next() % 1009)
                for i in 0..<t.count { t[i] = Float((a * i + b) % 1009) * 0.03 - 15 }
            case .relu:
                for i in 0..<t.count { let v = Float(rng.normal()); t[i] = v >= 0 ? v + 0.05 : v - 0.05 }
            case .kernel(let k):
                // N(0, scale²) kept 0.05 away from every kink of the kind, so a step of h never crosses one.
                let probe = k.probe
                for i in 0..<t.count {
                    var v = Float(rng.normal()) * probe.scale
                    for k in probe.kinks where abs(v - k) < 0.05 { v = v >= k ? k + 0.05 : k - 0.05 }
                    t[i] = v
                }
            case .conv2d, .batchNorm2d, .linear, .avgPool2d, .adaptiveAvgPool2d, .dropout, .flatten, .identity, .concat, .add:
                for i in 0..<t.count { t[i] = Float(rng.normal()) }
            }
            return t
        }
        let r = Verify.randomTensor(node.outputShape, &rng)
        let p = plan[node.index]
        var paramKeys = [p.weight, p.bias].compactMap { $0 }.filter { gradients[$0] != nil }
        if case .kernel(let k) = node.layer.kernel { paramKeys = k.parameterKeys(KernelCall(engine: self, node: node, training: training)) }
        let bufferKeys = [p.runningMean, p.runningVar, p.numBatches].compactMap { $0 }
        let buffers = bufferKeys.map { state[$0]!.copy() }
        let gradBackup = paramKeys.map { gradients[$0]!.copy() }
        let rng0 = self.rng
        func loss() -> (Double, Tensor?) {
            self.rng = rng0
            for (k, b) in zip(bufferKeys, buffers) { state[k]!.data.update(from: b.data, count: b.count) }
            guard let y = try? run(node, xs, training: training) else { return (.nan, nil) }
            var s = 0.0
            for i in 0..<y.count { s += Double(y[i]) * Double(r[i]) }
            return (s, y)
        }
        // Analytic: backward with dy = R.
        let (_, y) = loss()
        for k in paramKeys { gradients[k]!.fill(0) }
        let dxs = xs.map { Tensor(zeros: $0.shape) }
        let savedTraining = lastTraining
        lastTraining = training
        let failed = (try? backwardNode(node, dy: r, dxs: dxs, xs: xs, y: y)) == nil
        lastTraining = savedTraining
        if failed { return (.infinity, 1) }        // backward refused (nothing saved): the check fails
        var targets: [(value: Tensor, grad: Tensor)] = zip(xs, dxs).map { ($0, $1) }
        for k in paramKeys { targets.append((state[k]!, gradients[k]!.copy())) }
        var worst = 0.0, count = 0
        for (t, g) in targets {
            var rms = 0.0
            for i in 0..<g.count { rms += Double(g[i]) * Double(g[i]) }
            rms = (rms / Double(max(g.count, 1))).squareRoot()
            for _ in 0..<min(samples, t.count) {
                let i = Int(rng.next() % UInt64(t.count))
                let v = t[i]
                let num = Verify.richardson(h) { s in t[i] = v + s; return loss().0 }
                t[i] = v
                let ana = Double(g[i])
                // Coordinates whose gradient is under 1% of the tensor's rms are judged against that
                // floor: there the float32 resolution of L (ulp(y)·|R|/2h) is comparable to the value.
                let e = abs(num - ana) / max(abs(num), abs(ana), 1e-2 * rms, 1e-12)
                worst = max(worst, e.isNaN ? .infinity : e); count += 1
            }
        }
        // Restore.
        self.rng = rng0
        for (k, b) in zip(bufferKeys, buffers) { state[k]!.data.update(from: b.data, count: b.count) }
        for (k, g) in zip(paramKeys, gradBackup) { gradients[k]!.data.update(from: g.data, count: g.count) }
        saved[node.index] = nil
        return (worst, count)
    }

    /// Whole-model directional derivatives, with ReLU masks and max-pool choices frozen at the
    /// reference point (a kink crossed inside ±h would otherwise dominate the estimate): for v random, (L(θ + h·v) − L(θ − h·v)) / 2h against
    /// ⟨∇L, v⟩, with L = Σ logits·R (+ Σ aux·R_aux). Over the input, and over the parameters of the
    /// first and last node of each parameterised layer kind (v scaled to each tensor's rms). Returns (name, numeric, analytic, relative error).
    /// `levels` > 1 (curved L): the step ladder of `Verify.ladder` from `h` down.
    func directionalChecks(input: Tensor, training: Bool, step h: Float, levels: Int = 1, rng: inout RandomSource) throws -> [Verify.Directional] {
        let buffers = bufferKeys.map { ($0, state[$0]!.copy()) }
        func restoreBuffers() { for (k, b) in buffers { state[k]!.data.update(from: b.data, count: b.count) } }
        let outs = [graph.output] + (training ? graph.auxOutputs : [])
        let rs = outs.map { Verify.randomTensor(graph.nodes[$0].outputShape, &rng) }
        func loss(_ x: Tensor) throws -> Double {
            resetDropout(); restoreBuffers()
            _ = try forward(x, training: training)
            var s = 0.0
            for (o, r) in zip(outs, rs) { let y = outputs[o]!; for i in 0..<y.count { s += Double(y[i]) * Double(r[i]) } }
            return s
        }
        // Analytic gradients, and the ReLU/max-pool decisions of this point, replayed below.
        _ = try loss(input)
        var decisions = FrozenDecisions()
        for n in graph.nodes(training: training) {
            if case .relu = n.layer.kernel, let y = outputs[n.index] { decisions.relu[n.index] = y.copy() }
            if case .maxPool2d = n.layer.kernel, case .indices(let idx) = saved[n.index] {
                decisions.pool[n.index] = idx
                if plan[n.index].poolAppliesRelu, let y = outputs[n.index] { decisions.poolRelu[n.index] = y.copy() }
            }
            if case .kernel(let k) = n.layer.kernel, k.probe.freezesInput, let i = n.inputs.first {
                decisions.inputs[n.index] = (i == ModelGraph.inputID ? input : outputs[i]!).copy()
            }
        }
        frozen = decisions
        defer { frozen = nil }
        zeroGradients()
        let dInput = try backward(rs[0], auxGradients: Array(rs.dropFirst()))
        let grads = gradients   // the perturbed passes below run no backward: these stay as computed
        var results: [Verify.Directional] = []
        // float32 rounding of L limits what a central difference can resolve: a derivative far
        // smaller than L's own noise (a batch norm whose shift the next train-mode batch norms
        // remove) is not measurable at any step. The noise is probed at a tiny step η = h/1000,
        // where the true change 2η·ana is negligible beside it: what remains of L(η) − L(−η) is
        // rounding, which a step-h difference carries divided by 2h (×3 for Richardson's
        // combination). Differences within that floor pass; the table shows it.
        func record(_ name: String, _ ladder: (estimates: [(value: Double, step: Float, floor: Double)], settled: Bool), _ ana: Double) {
            results.append(Verify.Directional(name: name, estimates: ladder.estimates, analytic: ana, settled: ladder.settled))
        }
        // The ladder's estimates, each with the noise floor at its step (rounding ∝ 1/step).
        func estimate(_ f: (Float) throws -> Double, _ ana: Double) rethrows -> (estimates: [(value: Double, step: Float, floor: Double)], settled: Bool) {
            let (estimates, settled) = try Verify.ladder(h, levels: levels, f)
            let eta = h / 1000
            let noise = abs(try f(eta) - f(-eta) - 2 * Double(eta) * ana)
            return (estimates.map { ($0.value, $0.step, 3 * noise / (2 * Double($0.step))) }, settled)
        }
        // Input direction.
        let v = Verify.randomTensor(input.shape, &rng)
        var ana = 0.0
        for i in 0..<v.count { ana += Double(dInput[i]) * Double(v[i]) }
        let alongInput = { (s: Float) throws -> Double in
            let x = input.copy()
            for i in 0..<v.count { x[i] += s * v[i] }
            return try loss(x)
        }
        record("grad input (model)", try estimate(alongInput, ana), ana)
        // Parameter directions: per layer kind, the first and last node's weight (and bias) together.
        var byKind: [String: [GraphNode]] = [:]
        for n in graph.nodes(training: training) where plan[n.index].weight != nil && gradients[plan[n.index].weight!] != nil {
            byKind[Verify.kindName(n.layer), default: []].append(n)
        }
        for kind in byKind.keys.sorted() {
            for node in Verify.pick(byKind[kind]!, 2) {
                let keys = [plan[node.index].weight, plan[node.index].bias].compactMap { $0 }
                // Directions scaled to each tensor's rms, so h is a relative step for every tensor.
                let dirs = keys.map { k in
                    let t = state[k]!, d = Verify.randomTensor(t.shape, &rng)
                    var ss = 0.0
                    for i in 0..<t.count { ss += Double(t[i]) * Double(t[i]) }
                    let rms = Float((ss / Double(max(t.count, 1))).squareRoot())
                    for i in 0..<d.count { d[i] *= rms > 0 ? rms : 1 }
                    return d
                }
                var a = 0.0
                for (k, d) in zip(keys, dirs) { let g = grads[k]!; for i in 0..<d.count { a += Double(g[i]) * Double(d[i]) } }
                let saved = keys.map { state[$0]!.copy() }
                let along = { (s: Float) throws -> Double in
                    for (k, (t0, d)) in zip(keys, zip(saved, dirs)) { let t = self.state[k]!; for i in 0..<d.count { t[i] = t0[i] + s * d[i] } }
                    return try loss(input)
                }
                let ladder = try estimate(along, a)
                for (k, t) in zip(keys, saved) { state[k]!.data.update(from: t.data, count: t.count) }
                record("grad \(kind) \(node.name) (model)", ladder, a)
            }
        }
        restoreBuffers()
        return results
    }
}
