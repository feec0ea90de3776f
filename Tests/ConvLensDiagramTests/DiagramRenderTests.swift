import ConvLensDiagram
import ConvLensGraph
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Rendering through libgvc: SVG that parses and holds one node per box; PNG and PDF magic bytes.
/// Never compares rendered bytes (they depend on the installed fonts).
struct DiagramRenderTests {
    static let models = ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"]

    @Test(arguments: models, [nil, 1, 2] as [Int?])
    func svgParsesAndHasOneNodePerBox(model: String, depth: Int?) throws {
        let g = try Registry.graph(model)
        let options = DiagramOptions(depth: depth)
        let plan = try DiagramPlan(g, options)
        let (svg, warnings) = try Diagram.renderReportingWarnings(try Diagram.dot(g, options), format: .svg)
        #expect(warnings.isEmpty, "Graphviz warned: \(warnings)")
        let parsed = try SVGNodes(svg)
        // Graphviz writes <g id="nodeK" class="node"><title>ID</title>…: one per box (the legend is the graph label).
        #expect(parsed.nodeTitles.sorted() == plan.boxes.map(\.id).sorted())
        #expect(parsed.edgeCount == plan.edges.count)
        if depth == nil {
            #expect(parsed.nodeTitles.filter { $0.hasPrefix("n") }.count == g.nodes(training: false).count)
        }
        #expect(parsed.texts.contains(g.name))
    }

    @Test(arguments: models)
    func pngAndPdfHaveTheirMagicBytes(model: String) throws {
        let g = try Registry.graph(model)
        for depth in [nil, 1, 2] as [Int?] {
            let dot = try Diagram.dot(g, DiagramOptions(depth: depth))
            let (png, pngWarnings) = try Diagram.renderReportingWarnings(dot, format: .png)
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "\(model) PNG")
            #expect(pngWarnings.isEmpty, "\(model) PNG: Graphviz warned \(pngWarnings)")
            let (pdf, pdfWarnings) = try Diagram.renderReportingWarnings(dot, format: .pdf)
            #expect(pdf.starts(with: Array("%PDF".utf8)), "\(model) PDF")
            #expect(pdfWarnings.isEmpty, "\(model) PDF: Graphviz warned \(pdfWarnings)")
        }
    }

    /// Renders depend on the DOT text alone: the same text gives the same bytes however much the
    /// process has allocated in between (cgraph's default IDs were heap addresses, which put the
    /// clusters of one text in a different order from one render to the next).
    @Test func rendersAreReproducibleWithinAProcess() throws {
        let dot = try Diagram.dot(try Registry.graph("googlenet"), DiagramOptions())
        let first = try Diagram.render(dot, format: .svg)
        var ballast: [String] = []
        for i in 0..<20_000 { ballast.append("cluster_m\(i)" + String(repeating: "x", count: i % 97)) }
        for m in ["inception_v3", "densenet121", "efficientnet_b0"] {
            _ = try Diagram.render(try Diagram.dot(try Registry.graph(m), DiagramOptions()), format: .svg)
        }
        #expect(ballast.count == 20_000)
        let second = try Diagram.render(dot, format: .svg)
        #expect(first == second)
        let titles = String(decoding: first, as: UTF8.self).components(separatedBy: "<title>cluster_m").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(titles.count > 10 && titles == titles.sorted(), "clusters in creation order")
    }

    @Test func dotFormatIsTheTextItself() throws {
        let g = try Registry.graph("lenet5")
        let dot = try Diagram.dot(g)
        #expect(try Diagram.render(dot, format: .dot) == Array(dot.utf8))
    }

    @Test func graphvizErrorsBecomeSwiftErrors() throws {
        do {
            _ = try Diagram.render("digraph { a -> ; }", format: .svg)
            Issue.record("broken DOT text rendered")
        } catch {
            #expect(error.description.hasPrefix("Graphviz: cannot parse"))
            #expect(error.description.contains("syntax error"))
        }
        // …and the next render still works (the error state was reset).
        let ok = try Diagram.render("digraph { a -> b }", format: .svg)
        #expect(String(decoding: ok, as: UTF8.self).contains("<svg"))
        #expect(Diagram.graphvizVersion.first?.isNumber == true)
    }

    @Test func concurrentRendersAreSerialisedSafely() async throws {
        let g = try Registry.graph("resnet18")
        let dot = try Diagram.dot(g, DiagramOptions(depth: 2))
        let sizes = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<8 {
                group.addTask { try Diagram.render(dot, format: i % 2 == 0 ? .svg : .png).count }
            }
            var out: [Int] = []
            for try await s in group { out.append(s) }
            return out
        }
        #expect(sizes.count == 8 && sizes.allSatisfy { $0 > 1000 })
    }
}

/// What matters in a Graphviz SVG: node titles (the DOT ids), the number of edges, and all text.
struct SVGNodes {
    var nodeTitles: [String] = []
    var edgeCount = 0
    var texts: [String] = []

    init(_ bytes: [UInt8]) throws {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = delegate
        guard parser.parse() else {
            throw DiagramError("SVG does not parse: \(parser.parserError.map { "\($0)" } ?? "unknown error")")
        }
        nodeTitles = delegate.nodeTitles
        edgeCount = delegate.edgeCount
        texts = delegate.texts
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var nodeTitles: [String] = []
        var edgeCount = 0
        var texts: [String] = []
        private var groupClass: [String] = []
        private var inTitle = false
        private var inText = false
        private var buffer = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "g" {
                let cls = attributes["class"] ?? ""
                groupClass.append(cls)
                if cls == "edge" { edgeCount += 1 }
            }
            if name == "title" || name == "text" { inTitle = name == "title"; inText = name == "text"; buffer = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inTitle || inText { buffer += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "g" { groupClass.removeLast() }
            if name == "title" {
                if groupClass.last == "node" { nodeTitles.append(buffer) }
                inTitle = false
            }
            if name == "text" { texts.append(buffer); inText = false }
        }
    }
}
