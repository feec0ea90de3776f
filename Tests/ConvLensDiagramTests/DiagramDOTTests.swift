import ConvLensDiagram
import ConvLensGraph
import Foundation
import Testing
import TestSupport

/// The DOT text against the graph it was drawn from: node statements, edges, clusters, numbers.
struct DiagramDOTTests {
    static let models = ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"]

    @Test(arguments: models, [false, true])
    func fullDepthHasOneNodePerCallAndOneEdgePerInput(model: String, training: Bool) throws {
        let g = try Registry.graph(model)
        let nodes = g.nodes(training: training)
        let dot = try Diagram.dot(g, DiagramOptions(training: training))
        let stmts = DOTText(dot)
        #expect(stmts.nodeIDs.filter { $0.hasPrefix("n") }.sorted() == nodes.map { "n\($0.index)" }.sorted())
        #expect(stmts.nodeIDs.filter { $0.hasPrefix("m") }.isEmpty)
        #expect(stmts.nodeIDs.filter { !$0.hasPrefix("n") } == ["input"])
        // Edges = sum of node inputs, each one a real producer → consumer pair.
        #expect(stmts.edges.count == nodes.reduce(0) { $0 + $1.inputs.count })
        var expected: [String] = []
        for n in nodes { for p in n.inputs { expected.append("\(p == ModelGraph.inputID ? "input" : "n\(p)")->n\(n.index)") } }
        #expect(stmts.edges.map { "\($0.from)->\($0.to)" }.sorted() == expected.sorted())
    }

    @Test func aModuleCalledTwiceAppearsTwice() throws {
        let g = try Registry.graph("resnet18")
        let dot = try Diagram.dot(g)
        // layer1.0.relu runs after bn1 and after the residual add: two node statements with its name.
        #expect(dot.components(separatedBy: "<B>layer1.0.relu</B>").count - 1 == 2)
        #expect(dot.contains("<B>layer1.0.add</B>"))
    }

    @Test func containersAreClustersAndCallsShowTheirArguments() throws {
        let dot = try Diagram.dot(try Registry.graph("inception_v3"))
        #expect(dot.contains("subgraph cluster_"))
        #expect(dot.contains("<B>Mixed_5b</B>  <FONT POINT-SIZE=\"9\">InceptionA</FONT>"))
        #expect(dot.contains("<B>branch7x7_2</B>  <FONT POINT-SIZE=\"9\">BasicConv2d</FONT>"))
        #expect(dot.contains("Conv2d  128→128  k1×7  s1  p0×3  no bias"))
        #expect(dot.contains("<I>cat()</I>  dim 1"))
        #expect(!dot.contains("AuxLogits"), "eval mode omits the auxiliary head")
        let train = try Diagram.dot(try Registry.graph("inception_v3"), DiagramOptions(training: true))
        #expect(train.contains("<B>AuxLogits.fc</B>"))
        let resnet = try Diagram.dot(try Registry.graph("resnet18"))
        #expect(resnet.contains("Conv2d  3→64  k7×7  s2  p3  no bias"))
        #expect(resnet.contains("→ 1×64×112×112"))
        #expect(resnet.contains("9,408 params"))
        #expect(resnet.contains("n0 -> n1 [label=\" 1×64×112×112\"]"))
        #expect(resnet.contains("Linear  512→1000"))
    }

    @Test(arguments: models)
    func collapsingKeepsTotalsAndDrawsFewerNodes(model: String) throws {
        let g = try Registry.graph(model)
        let full = try DiagramPlan(g, DiagramOptions())
        let hasContainers = g.modules.contains { $0.depth >= 1 && $0.isContainer }
        var previous = full.boxes.count
        for depth in [3, 2, 1] {
            let plan = try DiagramPlan(g, DiagramOptions(depth: depth))
            #expect(plan.boxes.count <= previous)
            previous = plan.boxes.count
            #expect(plan.boxes.reduce(0) { $0 + $1.macs } == full.boxes.reduce(0) { $0 + $1.macs })
            #expect(plan.boxes.reduce(0) { $0 + $1.parameters } == full.boxes.reduce(0) { $0 + $1.parameters })
            // Every DOT node statement is a box; every edge joins two different boxes.
            let dot = DOTText(try Diagram.dot(g, DiagramOptions(depth: depth)))
            #expect(dot.nodeIDs.sorted() == plan.boxes.map(\.id).sorted())
            #expect(dot.edges.count == plan.edges.count)
            #expect(dot.edges.allSatisfy { $0.from != $0.to })
        }
        if hasContainers {
            #expect(try DiagramPlan(g, DiagramOptions(depth: 1)).boxes.count < full.boxes.count)
        }
    }

    @Test func depthOneCollapsesTopLevelContainers() throws {
        let g = try Registry.graph("resnet18")
        let plan = try DiagramPlan(g, DiagramOptions(depth: 1))
        // input, conv1, bn1, relu, maxpool, layer1…layer4, avgpool, flatten, fc
        #expect(plan.boxes.count == 12)
        let layer1 = try #require(plan.boxes.first { if case .container(let m, _) = $0.content { m.path == "layer1" } else { false } })
        #expect(layer1.outputShape == [1, 64, 56, 56])
        #expect(layer1.clusters.isEmpty)
        // layer1 receives one merged arrow from maxpool (its blocks' inputs and the skip)
        #expect(plan.edges.filter { $0.to == layer1.id }.count == 1)
        let dot = try Diagram.dot(g, DiagramOptions(depth: 1))
        #expect(!dot.contains("subgraph cluster_"))
        #expect(dot.contains("shape=box3d"))
        // depth 2: layer1 is a cluster of two collapsed BasicBlocks
        let two = try DiagramPlan(g, DiagramOptions(depth: 2))
        let blocks = two.boxes.filter { if case .container(let m, _) = $0.content { m.className == "BasicBlock" } else { false } }
        #expect(blocks.count == 8)
        #expect(blocks.allSatisfy { $0.clusters.count == 1 })
    }

    @Test(arguments: ["resnet18", "googlenet", "inception_v3", "vgg16"])
    func collapsedNumbersMatchPyTorchPerLayerTable(model: String) throws {
        let g = try Registry.graph(model)
        let layers = try AnalysisReference.layers(model)
        let plan = try DiagramPlan(g, DiagramOptions(depth: 1))
        for box in plan.boxes {
            guard case .container(let m, _) = box.content else { continue }
            let inside = layers.filter { $0.name.hasPrefix(m.path + ".") }
            #expect(box.macs == inside.reduce(0) { $0 + $1.macs }, "\(m.path) MACs")
            // a module called twice (ReLU) has no parameters, so summing rows counts each once
            #expect(box.parameters == inside.reduce(0) { $0 + $1.params }, "\(m.path) params")
        }
        let totals = try AnalysisReference.totals(model)
        #expect(plan.boxes.reduce(0) { $0 + $1.macs } == totals.ownMacs)
        let train = try DiagramPlan(g, DiagramOptions(depth: 1, training: true))
        #expect(train.boxes.reduce(0) { $0 + $1.parameters } == totals.params)
    }

    @Test func badDepthIsAnError() throws {
        let g = try Registry.graph("lenet5")
        #expect(throws: DiagramError.self) { try Diagram.dot(g, DiagramOptions(depth: 0)) }
        do {
            _ = try Diagram.dot(g, DiagramOptions(depth: -2))
            Issue.record("depth -2 was accepted")
        } catch {
            #expect(error.description.contains("--depth must be at least 1"))
            #expect(!error.description.contains("\n"))
        }
        // deeper than the model: the same as full depth
        let deep = try Diagram.dot(g, DiagramOptions(depth: 50)).replacingOccurrences(of: "depth 50", with: "full depth")
        #expect(deep == (try Diagram.dot(g)))
    }

    @Test func rankdirReachesTheDOT() throws {
        let g = try Registry.graph("convnet")
        #expect(try Diagram.dot(g, DiagramOptions(rankdir: .LR)).contains("rankdir=LR"))
        #expect(try Diagram.dot(g).contains("rankdir=TB"))
    }
}

/// The node statements and edges of DOT text written by ConvLens (one statement per line).
struct DOTText {
    var nodeIDs: [String] = []
    var edges: [(from: String, to: String)] = []

    init(_ text: String) {
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let words = line.split(separator: " ", maxSplits: 3)
            guard words.count >= 2 else { continue }
            if words[1] == "->", words.count >= 3 {
                edges.append((String(words[0]), String(words[2]).trimmingCharacters(in: CharacterSet(charactersIn: ";"))))
            } else if words[1].hasPrefix("["), !["graph", "node", "edge"].contains(String(words[0])) {
                nodeIDs.append(String(words[0]))
            }
        }
    }
}
