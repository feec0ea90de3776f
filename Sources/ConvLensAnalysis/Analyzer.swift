import ConvLensGraph

/// Computes shapes, parameters, MACs, FLOPs, receptive fields and memory for every node and
/// container call of a graph. Static: no forward pass, any input size the graph accepts.
public enum Analyzer {
    /// - Throws: the graph's `trainingProblem` when `mode` is `.train` and a training-only head does not fit.
    public static func analyze(_ graph: ModelGraph, mode: AnalysisMode = .eval, convention: FlopConvention = .convlens) throws(ZooError) -> Analysis {
        if mode == .train, let problem = graph.trainingProblem { throw problem }
        let subtree = SubtreeCounts(graph)

        var rows: [AnalysisRow] = []
        var rowOfNode: [Int: Int] = [:]
        var rowOfModule: [Int: Int] = [:]
        var rf = [ReceptiveField](repeating: .input, count: graph.nodes.count)
        var local = rf      // the spatial path alone (global-context branches left out)
        var counted = [Double](repeating: 0, count: graph.nodes.count)
        var seenModules = [Bool](repeating: false, count: graph.modules.count)
        var open: [(module: Int, row: Int)] = []
        var activationBytes = 0
        // An eval-mode analysis also reports a training step's memory: the train-mode activations
        // are summed in the same pass (every node, training-only heads included).
        let sumsTrainActivations = mode == .eval && graph.trainingProblem == nil
        var trainActivationBytes = 0

        for n in graph.nodes {
            if sumsTrainActivations, !Memory.isView(n, mode: .train) { trainActivationBytes += Memory.outputBytes(n) }
            guard mode == .train || !n.trainOnly else { continue }
            // Close containers this node is not in, open the ones it enters (outermost first).
            var keep = 0
            while keep < open.count, keep < n.scope.count, open[keep].module == n.scope[keep] { keep += 1 }
            open.removeSubrange(keep...)
            for m in n.scope[keep...] {
                let e = graph.modules[m]
                rows.append(AnalysisRow(name: e.path, type: e.className, kind: .container, depth: e.depth, node: nil, module: m,
                                        nodes: [], inputShapes: [], outputShape: [], params: subtree.params[m],
                                        trainableParams: subtree.params[m], buffers: subtree.buffers[m], macs: 0, flops: 0,
                                        rf: .input, outputBytes: 0, repeated: rowOfModule[m] != nil, trainOnly: false))
                if rowOfModule[m] == nil { rowOfModule[m] = rows.count - 1 }
                open.append((m, rows.count - 1))
            }
            for o in open { rows[o.row].nodes.append(n.index) }

            func fieldOf(_ inputs: [ReceptiveField], spatialOnly: Bool = false) throws(ZooError) -> ReceptiveField {
                do { return try ReceptiveField.of(n, inputs: inputs, spatialOnly: spatialOnly) } catch {
                    throw ZooError(.shape, "\(n.typeName)'s receptive field passes 2^61 pixels (its jump is the product of the strides before it)", at: n.location, module: n.name)
                }
            }
            let field = try fieldOf(n.inputs.map { $0 == ModelGraph.inputID ? .input : rf[$0] })
            rf[n.index] = field
            // The spatial path's field differs only downstream of a broadcast merge (squeeze-excitation).
            let localInputs = n.inputs.map { $0 == ModelGraph.inputID ? ReceptiveField.input : local[$0] }
            let broadcastMerge = n.inputShapes.count > 1 && n.inputShapes.contains { $0 != n.outputShape }
            local[n.index] = !broadcastMerge && zip(n.inputs, localInputs).allSatisfy({ $0.0 == ModelGraph.inputID || $0.1 == rf[$0.0] })
                ? field : try fieldOf(localInputs, spatialOnly: true)
            let c = convention.count(n, mode: mode)
            counted[n.index] = c
            let spec = n.spec
            let params = n.kind == .module ? subtree.ownParams[n.module!] : 0
            let buffers = n.kind == .module ? subtree.ownBuffers[n.module!] : 0
            var repeated = false
            if n.kind == .module, let m = n.module { repeated = seenModules[m]; seenModules[m] = true }
            if !Memory.isView(n, mode: mode) { activationBytes += Memory.outputBytes(n) }
            rowOfNode[n.index] = rows.count
            rows.append(AnalysisRow(name: n.name, type: n.typeName, kind: n.kind == .module ? .module : .function,
                                    depth: n.kind == .module ? graph.modules[n.module!].depth : n.scope.count + 1,
                                    node: n.index, module: n.module, nodes: [], inputShapes: n.inputShapes,
                                    outputShape: n.outputShape, params: params, trainableParams: params, buffers: buffers,
                                    macs: spec.macs(n.call(training: mode == .train)), flops: Int(c.rounded()),
                                    rf: field, outputBytes: Memory.outputBytes(n), repeated: repeated, trainOnly: n.trainOnly))
            if local[n.index] != field { rows[rows.count - 1].spatialRF = local[n.index] }
        }

        // Containers: output = the last node of the call that is not a training-only branch.
        // Per-node MACs and a membership stamp in flat arrays: no hashing in this loop, which visits
        // every node once per enclosing container.
        var macsOfNode = [Int](repeating: 0, count: graph.nodes.count)
        for (n, r) in rowOfNode { macsOfNode[n] = rows[r].macs }
        var stamp = [Int](repeating: -1, count: graph.nodes.count)
        let trainOnly = graph.nodes.map(\.trainOnly)      // read per container member: no node copies
        for i in rows.indices where rows[i].kind == .container {
            let call = rows[i].nodes
            for id in call { stamp[id] = i }
            let allTrainOnly = call.allSatisfy { trainOnly[$0] }
            guard let out = call.last(where: { allTrainOnly || !trainOnly[$0] }) else { continue }
            let outNode = graph.nodes[out]
            rows[i].outputShape = outNode.outputShape
            rows[i].outputBytes = Memory.outputBytes(outNode)
            rows[i].rf = rf[out]
            if local[out] != rf[out] { rows[i].spatialRF = local[out] }
            rows[i].trainOnly = allTrainOnly
            rows[i].macs = call.reduce(0) { $0 + macsOfNode[$1] }
            rows[i].flops = Int(call.reduce(0.0) { $0 + counted[$1] }.rounded())
            if let first = call.lazy.compactMap({ id in graph.nodes[id].inputs.first { $0 < 0 || stamp[$0] != i } }).first {
                rows[i].inputShapes = [first == ModelGraph.inputID ? graph.inputShape : graph.nodes[first].outputShape]
            }
        }

        let params = subtree.params[0]
        let trainActivations = sumsTrainActivations ? trainActivationBytes : activationBytes
        let totals = AnalysisTotals(
            params: params, trainableParams: params, buffers: subtree.buffers[0],
            macs: rows.reduce(0) { $1.kind == .container ? $0 : $0 + $1.macs },
            flops: Int(counted.reduce(0, +).rounded()),
            paramBytes: params * Memory.floatBytes, bufferBytes: subtree.bufferBytes,
            inputBytes: numel(graph.inputShape) * Memory.floatBytes,
            activationBytes: activationBytes,
            trainingBytes: Memory.trainingBytes(inputBytes: numel(graph.inputShape) * Memory.floatBytes, activationBytes: trainActivations,
                                                paramBytes: params * Memory.floatBytes, bufferBytes: subtree.bufferBytes))
        return Analysis(graph: graph, mode: mode, convention: convention, rows: rows, totals: totals,
                        rowOfNode: rowOfNode, rowOfModule: rowOfModule)
    }
}

/// Parameter and buffer element counts of every module's subtree (what `module.parameters()` sees).
struct SubtreeCounts {
    var ownParams: [Int]
    var ownBuffers: [Int]
    var params: [Int]
    var buffers: [Int]
    /// All buffers in bytes: float32, except int64 `num_batches_tracked`.
    var bufferBytes = 0

    init(_ g: ModelGraph) {
        ownParams = Array(repeating: 0, count: g.modules.count)
        ownBuffers = ownParams
        for m in g.modules.indices {
            let e = g.modules[m].elements        // the leaf's own, summed by the builder
            ownParams[m] = e.parameters
            if !g.modules[m].ownParameters.isEmpty { ownParams[m] += g.modules[m].ownParameters.reduce(0) { $0 + $1.count } }
            ownBuffers[m] = e.buffers
            bufferBytes += (e.buffers - e.int64Buffers) * Memory.floatBytes + e.int64Buffers * 8
        }
        params = ownParams
        buffers = ownBuffers
        // Children always have larger indices than their parent (registration order): sum backwards.
        for m in g.modules.indices.reversed() {
            if let p = g.modules[m].parent {
                params[p] += params[m]; buffers[p] += buffers[m]
            }
        }
    }
}
