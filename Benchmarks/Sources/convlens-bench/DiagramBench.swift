import ConvLensDiagram
import ConvLensGraph

/// Issue 4: InceptionV3 at full depth, DOT text generated and laid out + rendered to SVG in-process: < 2 s.
/// The graph is built outside the timed part; DOT generation and Graphviz are timed separately and together.
let diagramBench = Bench(name: "diagram-inception-svg", summary: "inception_v3 full depth → SVG < 2 s") {
    let graph = try Registry.graph("inception_v3")
    var dot = ""
    let tDot = try seconds { dot = try Diagram.dot(graph) }
    var bytes: [UInt8] = []
    let tRender = try seconds { bytes = try Diagram.render(dot, format: .svg) }
    precondition(bytes.count > 100_000, "SVG unexpectedly small")
    return [("dot ms", tDot * 1000), ("render ms", tRender * 1000), ("total s", tDot + tRender)]
}

/// Issue 12: the largest full-depth diagram of the registry (most boxes and arrows), DOT text and
/// SVG render in-process: < 5 s. Every model's full-depth DOT is generated to find it.
let largestDiagramBench = Bench(name: "diagram-largest-svg", summary: "the registry's largest full-depth diagram → SVG < 5 s") {
    var largest: (name: String, size: Int, graph: ModelGraph)? = nil
    for name in Registry.names {
        let g = try Registry.graph(name)
        let plan = try DiagramPlan(g, DiagramOptions())
        let size = plan.boxes.count + plan.edges.count
        if size > (largest?.size ?? 0) { largest = (name, size, g) }
    }
    guard let largest else { return [] }
    var dot = ""
    let tDot = try seconds { dot = try Diagram.dot(largest.graph) }
    var bytes: [UInt8] = []
    let tRender = try seconds { bytes = try Diagram.render(dot, format: .svg) }
    precondition(bytes.count > 100_000, "SVG unexpectedly small")
    print("  largest full-depth diagram: \(largest.name) (\(largest.size) boxes + arrows)")
    return [("boxes+arrows", Double(largest.size)), ("dot ms", tDot * 1000), ("render ms", tRender * 1000), ("total s", tDot + tRender)]
}
