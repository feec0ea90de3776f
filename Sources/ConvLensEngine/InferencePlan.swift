import CKernels
import ConvLensGraph

// The eval-mode fast path: inference (`forward(training: false, retainForBackward: false)`) on an
// engine built with `fuse: true`. Training, eval passes kept for backward, verify's replays and
// `fuse: false` engines run every node with its own kernel, unchanged.
//
// The decisions are made here, once per engine (`planEvalFusions`), like `fuseReluIntoPools`:
//   conv → BatchNorm2d (running statistics)     the batch norm folded into the convolution's
//                                               weights and bias (`foldBatchNorm`)
//   … → Add(·, r)                               r added in the convolution's epilogue
//   … → ReLU / ReLU6 / SiLU / Hardswish / …     the activation applied in the epilogue
// in that order, each step only when the node before it has that one consumer and is not a
// result of the graph; the add only when r is computed before the convolution runs (of the two
// chains that meet at ResNet's add, the later one takes it). A ReLU that a max pool already
// applies (`fuseReluIntoPools`, a quarter of the work) stays with the pool.
// The epilogue (ConvEpilogue.swift) runs inside each convolution kernel, plane by plane while
// the output is in cache, so the fused nodes' outputs are never written or allocated.
// Each chain's convolution also gets the fast path's algorithm, its filters transformed once per
// weights: Winograd's tile (`fastGeometry`), or for 1×1 convolutions whose activation is a clamp
// the packed kernel that writes each output once (`takesPackedPointwise`, Conv2dPointwise.swift).

extension Engine {
    /// A convolution and the nodes after it that its kernel does.
    struct FusedConv {
        let conv: Int
        /// The geometry the fast path runs the convolution with (`fastGeometry`, `takesPackedPointwise`).
        var geometry: ConvGeometry
        /// The batch norm folded into the weights.
        var batchNorm: Int?
        /// The add done in the epilogue, and the producer of its other input (`ModelGraph.inputID` for the input).
        var add: Int?
        var residual: Int?
        var activation: (node: Int, function: EpilogueActivation)?
        /// The last node absorbed: the fused convolution's output stands for this node's.
        var last: Int
    }

    /// The fast path's plan: fused chains by convolution node, and the nodes they absorb.
    struct InferencePlan {
        var chains: [Int: FusedConv] = [:]
        /// Nodes done by a chain's convolution (they run nothing).
        var absorbed: Set<Int> = []
        /// Forward consumers per node once fused (what frees each activation).
        var consumers: [Int] = []
    }

    /// Plans the eval fast path's fusions (see the top of this file).
    func planEvalFusions() -> InferencePlan {
        let nodes = graph.nodes(training: false)
        var consumers = [[Int]](repeating: [], count: graph.nodes.count)
        for n in nodes { for i in n.inputs where i >= 0 { consumers[i].append(n.index) } }
        let results = Set([graph.output] + graph.auxOutputs)
        // The single consumer of node i, if it has exactly one and is not a result.
        func next(_ i: Int) -> GraphNode? {
            guard !results.contains(i), consumers[i].count == 1 else { return nil }
            return graph.nodes[consumers[i][0]]
        }
        var out = InferencePlan()
        for c in nodes {
            guard case .conv2d = c.layer.kernel, plan[c.index].conv != nil else { continue }
            var chain = FusedConv(conv: c.index, geometry: Self.fastGeometry(plan[c.index].conv!), last: c.index)
            if let b = next(chain.last), case .batchNorm2d = b.layer.kernel, b.inputs == [chain.last],
               plan[b.index].runningMean != nil, plan[b.index].runningVar != nil {
                chain.batchNorm = b.index; chain.last = b.index
            }
            if let a = next(chain.last), case .add = a.layer.kernel, a.inputs.count == 2, a.inputShapes[0] == a.inputShapes[1],
               a.inputShapes[0] == c.outputShape, !out.absorbed.contains(a.index) {
                let other = a.inputs[0] == chain.last ? a.inputs[1] : a.inputs[0]
                // Ready before the convolution runs (nodes run in index order; an earlier chain's
                // output is there once its convolution has run, and its inner nodes have no other consumer).
                if other != chain.last, other < c.index {
                    chain.add = a.index; chain.residual = other; chain.last = a.index
                }
            }
            if let f = next(chain.last), f.inputs == [chain.last], let function = epilogueActivation(f) {
                chain.activation = (f.index, function); chain.last = f.index
            }
            chain.geometry.packedPointwise = Self.takesPackedPointwise(chain.geometry, chain.activation?.function)
            for i in [chain.batchNorm, chain.add, chain.activation?.node].compactMap({ $0 }) where i != chain.last { out.absorbed.insert(i) }
            if chain.last != c.index { out.absorbed.insert(chain.last) }
            out.chains[c.index] = chain
        }
        out.consumers = [Int](repeating: 0, count: graph.nodes.count)
        for n in nodes where !out.absorbed.contains(n.index) { for i in fusedInputs(n, out) where i >= 0 { out.consumers[i] += 1 } }
        return out
    }

    /// The activation a convolution's epilogue can apply for node `f`, if it is one.
    func epilogueActivation(_ f: GraphNode) -> EpilogueActivation? {
        switch f.layer.kernel {
        case .relu: return plan[f.index].reluFusedIntoPool ? nil : .relu
        case .kernel(let k): return (k as? Activation).map { .function($0) }
        case .conv2d, .batchNorm2d, .linear, .maxPool2d, .avgPool2d, .adaptiveAvgPool2d, .dropout, .flatten, .identity, .concat, .add:
            return nil
        }
    }

    /// The inputs node `n` reads on the fast path: a chain reads its convolution's input and its residual.
    func fusedInputs(_ n: GraphNode, _ p: InferencePlan) -> [Int] {
        guard let chain = p.chains[n.index] else { return n.inputs }
        return n.inputs + (chain.residual.map { [$0] } ?? [])
    }

    /// The geometry the fast path runs a convolution with: its filters are transformed once, so
    /// it picks its own Winograd tile, or none (`fastWinogradTile`). `fuse: false` engines run
    /// the direct kernels.
    static func fastGeometry(_ g: ConvGeometry) -> ConvGeometry {
        var f = g
        f.winograd = g.fastWinogradTile != nil
        f.winogradTile = g.fastWinogradTile ?? 2
        f.winogradFiltersGiven = f.winograd
        return f
    }

    /// Whether a fused convolution runs on the packed 1×1 kernel (Conv2dPointwise.swift): an
    /// ungrouped pointwise convolution whose epilogue the kernel applies in registers — none, ReLU
    /// or ReLU6 (a clamp). With any other activation the sgemm path stays: the activation would be
    /// a second pass over small chunks, and EfficientNet-B0's SiLU expansions measured slower so.
    static func takesPackedPointwise(_ g: ConvGeometry, _ activation: EpilogueActivation?) -> Bool {
        g.isPointwise && g.groups == 1 && pointwiseClamp(activation) != nil
    }

    /// Whether `forward` takes the fast path.
    func usesInferencePlan(training: Bool, retainForBackward: Bool) -> Bool {
        fuses && !training && !retainForBackward && !calibratesRunningStatistics && frozen == nil
    }

    /// The folded weights and biases of every chain with a batch norm, recomputed when the weights
    /// may have changed since (`weightGeneration`).
    func refreshFoldedWeights() {
        guard foldedGeneration != weightGeneration else { return }
        folded = [:]
        for chain in inferencePlan.chains.values {
            guard let b = chain.batchNorm, case .batchNorm2d(let l) = graph.nodes[b].layer.kernel else { continue }
            let (pc, pb) = (plan[chain.conv], plan[b]), g = pc.conv!
            let t = Tensor(uninitialized: [g.oc * g.k + g.oc])
            foldBatchNorm(into: t.data, weight: param(pc.weight)!, bias: param(pc.bias), gamma: param(pb.weight), beta: param(pb.bias),
                          runningMean: param(pb.runningMean)!, runningVar: param(pb.runningVar)!, eps: l.epsValue, oc: g.oc, k: g.k)
            folded[chain.conv] = t
        }
        // Winograd's filter transform, or the 1×1 kernel's packing, once per weights instead of per call.
        transformedFilters = [:]
        for chain in inferencePlan.chains.values {
            let pc = plan[chain.conv], g = chain.geometry
            guard g.transformedFilterCount > 0 else { continue }
            let weight = folded[chain.conv].map { UnsafePointer($0.data) } ?? UnsafePointer(param(pc.weight)!)
            let u = Tensor(uninitialized: [g.transformedFilterCount])
            if g.winograd {
                ConvLensEngine.winogradFilters(u.data, weight, oc: g.oc, c: g.c, tile: g.winogradTile)
            } else {
                convlens_pointwise_pack(u.data, weight, g.oc, g.k)
            }
            transformedFilters[chain.conv] = u
        }
        foldedGeneration = weightGeneration
    }

    /// Eval-mode inference on the fast path (called by `forward`; same contract, nothing kept for
    /// backward). Activations come from and go back to the engine's `Arena` (`forward` installs it).
    func forwardInference(_ input: Tensor) throws(EngineError) -> Tensor {
        refreshFoldedWeights()
        let p = inferencePlan
        var remaining = p.consumers
        for node in graph.nodes(training: false) where !p.absorbed.contains(node.index) {
            var xs = node.inputs.map { $0 < 0 ? input : outputs[$0]! }
            if let chain = p.chains[node.index] {
                let pc = plan[node.index], g = chain.geometry
                let y = Tensor(uninitialized: node.outputShape)
                var e = ConvEpilogue.none
                e.residual = chain.residual.map { UnsafePointer($0 < 0 ? input.data : outputs[$0]!.data) }
                e.activation = chain.activation?.function
                e.transformedFilters = transformedFilters[node.index].map { UnsafePointer($0.data) }
                let (w, b): (UnsafePointer<Float>, UnsafePointer<Float>?) = if let f = folded[node.index] {
                    (UnsafePointer(f.data), UnsafePointer(f.data + g.oc * g.k))
                } else {
                    (UnsafePointer(param(pc.weight)!), param(pc.bias).map { UnsafePointer($0) })
                }
                forwardMACs += conv2dForward(y.data, xs[0].data, w, b, g, col: col.data, epilogue: e)
                outputs[chain.last] = y
            } else if plan[node.index].reluFusedIntoPool {
                outputs[node.index] = xs[0]      // the ReLU's input: its max pool applies the ReLU
            } else {
                let y = try run(node, xs, training: false)
                guard y.shape == node.outputShape else {
                    throw EngineError("\(node.name): produced shape \(y.shape) but the graph says \(node.outputShape)")
                }
                outputs[node.index] = y
            }
            xs.removeAll()
            for i in fusedInputs(node, p) where i >= 0 {
                remaining[i] -= 1
                if remaining[i] == 0, i != graph.output { outputs[i] = nil }
            }
        }
        return outputs[graph.output]!
    }
}
