import ConvLensGraph

extension StochasticDepth: KindKernel {
    var keeps: KernelKeeps { .nothing }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    var probe: GradientProbe { .linear }

    /// Eval (or p = 0): the identity. Train: torchvision's stochastic_depth — a Bernoulli(1 − p)
    /// keep per example (mode "row", noise [N, 1, …]) or one for the batch ("batch"), scaled by
    /// 1/(1 − p) (not when p = 1: everything is dropped), drawn from the run's seeded sequence.
    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0]
        guard call.drops, probability > 0 else { return x }
        let survival = 1 - probability
        let draws = mode == "row" ? x.shape[0] : 1
        let mask = Tensor(uninitialized: [draws])
        for i in 0..<draws { mask[i] = call.uniform() < survival ? (survival > 0 ? Float(1 / survival) : 1) : 0 }
        let y = Tensor(uninitialized: x.shape), per = x.count / draws
        for i in 0..<draws {
            let (yr, xr, m) = (y.data + i * per, x.data + i * per, mask[i])
            for j in 0..<per { yr[j] = xr[j] * m }
        }
        call.save([mask])
        return y
    }

    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        let masked = call.drops && probability > 0
        let mask = masked ? try call.savedTensors(1)[0] : nil
        guard let dx = dxs[0]?.data else { return }
        guard let mask else { return accumulate(dx, dy.data, count: dy.count) }
        let per = dy.count / mask.count
        for i in 0..<mask.count {
            let (d, g, m) = (dx + i * per, dy.data + i * per, mask[i])
            for j in 0..<per { d[j] += g[j] * m }
        }
    }
}

extension ParameterTensor: KindKernel {
    var keeps: KernelKeeps { .nothing }
    func parameterKeys(_ call: KernelCall) -> [String] { [call.key(name)] }
    var probe: GradientProbe { .linear }
    /// The parameter itself (no copy): consumers read it, nothing writes it.
    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        guard let t = call.parameter(name) else { throw EngineError("\(call.node.name): no parameter '\(call.key(name))' in the engine's state") }
        return t
    }
    /// Its gradient accumulates dy.
    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        guard let g = call.gradient(name) else { throw EngineError("\(call.node.name): no gradient for '\(call.key(name))'") }
        accumulate(g.data, dy.data, count: dy.count)
    }
}
