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
