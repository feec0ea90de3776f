import ConvLensGraph

/// How to draw a model.
public struct DiagramOptions: Sendable, Hashable {
    public enum RankDir: String, Sendable, CaseIterable { case TB, LR }

    /// Modules down to this depth are drawn (torchinfo's depth: 1 = the model's top-level children,
    /// such as `features` or `layer1`); a container at this depth becomes one node with its totals,
    /// hiding everything deeper. nil: full depth, one node per call.
    public var depth: Int?
    public var rankdir: RankDir
    /// Training mode also draws the train-only auxiliary heads (GoogLeNet aux1/aux2, AuxLogits).
    public var training: Bool
    public var legend: Bool

    public init(depth: Int? = nil, rankdir: RankDir = .TB, training: Bool = false, legend: Bool = true) {
        self.depth = depth; self.rankdir = rankdir; self.training = training; self.legend = legend
    }
}

/// One box of the picture: a single call (module or function), a collapsed container, or the input.
public struct DiagramBox: Sendable {
    public enum Content: Sendable {
        case input
        /// A module call or functional call: one per call, so a module called twice appears twice.
        case call(GraphNode)
        /// A container deeper than the chosen depth, standing for `nodes` (its calls, in order).
        case container(ModuleEntry, nodes: [GraphNode])
    }
    /// The DOT node id: `input`, `n<node index>` or `m<module index>`.
    public var id: String
    public var content: Content
    /// The containers drawn as clusters around this box, outermost first (module indices).
    public var clusters: [Int]
    public var outputShape: [Int]
    /// Parameters of the module(s) behind the box; a module called twice is counted once.
    public var parameters: Int
    /// Textbook multiply-accumulates of every call behind the box (Conv2d and Linear only).
    public var macs: Int
}

/// An arrow from producer to consumer carrying the producer's output shape.
public struct DiagramEdge: Sendable, Hashable {
    public var from: String
    public var to: String
    public var shape: [Int]
}

/// The boxes and arrows of a diagram, before any DOT text: what `Diagram.dot` draws.
public struct DiagramPlan: Sendable {
    public var boxes: [DiagramBox]
    public var edges: [DiagramEdge]
    /// The box whose output is the model's output.
    public var output: String
    /// The boxes whose outputs are the auxiliary heads' outputs (training mode only).
    public var auxOutputs: [String]

    /// Groups the graph's calls into boxes for the options' mode and depth.
    public init(_ graph: ModelGraph, _ options: DiagramOptions) throws(DiagramError) {
        if let d = options.depth, d < 1 {
            throw DiagramError("--depth must be at least 1 (1 = the model's top-level children), got \(d)")
        }
        let nodes = graph.nodes(training: options.training)
        let limit = options.depth ?? Int.max
        // A call whose scope reaches the depth belongs to its container at that depth: scope[k] is
        // a container at module depth k + 1, so the collapsed one is scope[limit - 1].
        func owner(_ n: GraphNode) -> String {
            n.scope.count >= limit ? "m\(n.scope[limit - 1])" : "n\(n.index)"
        }

        var boxes: [DiagramBox] = [DiagramBox(id: "input", content: .input, clusters: [], outputShape: graph.inputShape, parameters: 0, macs: 0)]
        var position: [String: Int] = ["input": 0]
        var members: [String: [GraphNode]] = [:]
        var boxOf: [Int: String] = [ModelGraph.inputID: "input"]
        for n in nodes {
            let id = owner(n)
            boxOf[n.index] = id
            members[id, default: []].append(n)
            if position[id] == nil {
                position[id] = boxes.count
                let clusters = Array(n.scope.prefix(min(n.scope.count, limit - 1)))
                boxes.append(DiagramBox(id: id, content: .input, clusters: clusters, outputShape: [], parameters: 0, macs: 0))
            }
        }
        for i in boxes.indices.dropFirst() {
            let calls = members[boxes[i].id]!
            if boxes[i].id.hasPrefix("m"), let m = Int(boxes[i].id.dropFirst()) {
                boxes[i].content = .container(graph.modules[m], nodes: calls)
            } else {
                boxes[i].content = .call(calls[0])
            }
            boxes[i].outputShape = calls.last!.outputShape
            boxes[i].macs = calls.reduce(0) { $0 + $1.spec.macs($1.call(training: false)) }
            var seen = Set<Int>()
            for c in calls {
                // Functional calls own no parameters; a module's parameters count once however often it is called.
                guard c.kind == .module, let m = c.module, seen.insert(m).inserted else { continue }
                boxes[i].parameters += c.spec.parameters.reduce(0) { $0 + $1.count }
            }
        }

        // One arrow per consumed input; arrows inside a collapsed container disappear, and the
        // several arrows a collapsed container would receive from one producer merge into one.
        var edges: [DiagramEdge] = []
        var merged = Set<DiagramEdge>()
        // A concatenation whose inputs extend an earlier concatenation's inputs (DenseNet: layer i
        // concatenates every earlier feature map) is drawn from that concatenation plus the new
        // inputs — cat(a, b, c) = cat(cat(a, b), c), the same numbers — so a dense block draws
        // O(n) arrows instead of O(n²), and lays out in seconds.
        var concats: [(inputs: [Int], dim: Int, box: String)] = []
        for n in nodes {
            let to = boxOf[n.index]!
            var inputs = Array(n.inputs.enumerated())
            if case .concat(let c) = n.layer, n.inputs.count >= 3, to.hasPrefix("n") {
                if let prior = concats.last(where: { $0.dim == c.dim && $0.inputs.count < n.inputs.count && Array(n.inputs.prefix($0.inputs.count)) == $0.inputs }) {
                    var shape = n.inputShapes[0]
                    let d = c.dim < 0 ? c.dim + shape.count : c.dim
                    shape[d] = n.inputShapes.prefix(prior.inputs.count).reduce(0) { $0 + $1[d] }
                    edges.append(DiagramEdge(from: prior.box, to: to, shape: shape))
                    inputs = Array(inputs.dropFirst(prior.inputs.count))
                }
                concats.append((n.inputs, c.dim, to))
            }
            for (k, p) in inputs {
                guard let from = boxOf[p], from != to else { continue }
                let e = DiagramEdge(from: from, to: to, shape: n.inputShapes[k])
                if from.hasPrefix("m") || to.hasPrefix("m") {
                    guard merged.insert(e).inserted else { continue }
                }
                edges.append(e)
            }
        }
        self.boxes = boxes
        self.edges = edges
        self.output = boxOf[graph.output] ?? boxes.last!.id
        self.auxOutputs = graph.auxOutputs.compactMap { boxOf[$0] }
    }
}
