import ConvLensAnalysis
import ConvLensGraph
import Foundation
import TestSupport
import Testing

@Suite struct AnalyzerTests {
    @Test func containersComeBeforeTheirChildren() throws {
        let a = try Analyzer.analyze(try Registry.graph("resnet18"))
        let names = a.rows.map(\.name)
        let l1 = try #require(names.firstIndex(of: "layer1"))
        let l10 = try #require(names.firstIndex(of: "layer1.0"))
        let conv = try #require(names.firstIndex(of: "layer1.0.conv1"))
        #expect(l1 < l10 && l10 < conv)
        #expect(a.rows[l10].kind == .container && a.rows[l10].type == "BasicBlock" && a.rows[l10].depth == 2)
        #expect(a.rows[conv].depth == 3)
        // A container's MACs are its call's; the four stages and the stem add up to the model.
        let stages = a.rows.filter { $0.kind == .container && $0.depth == 1 }.reduce(0) { $0 + $1.macs }
        let top = a.rows.filter { $0.kind == .module && $0.depth == 1 }.reduce(0) { $0 + $1.macs }
        #expect(stages + top == a.totals.macs)
        // The second call of a block's relu repeats the name and is marked.
        let relus = a.rows.filter { $0.name == "layer1.0.relu" }
        #expect(relus.count == 2 && !relus[0].repeated && relus[1].repeated)
        #expect(a.row(module: a.rows[l10].module!)?.name == "layer1.0")
    }

    @Test func inceptionBlocksAreContainers() throws {
        let g = try Analyzer.analyze(try Registry.graph("googlenet"))
        let b = try #require(g.rows.first { $0.name == "inception5b" })
        #expect(b.kind == .container && b.type == "Inception" && b.outputShape == [1, 1024, 7, 7] && b.inputShapes == [[1, 832, 7, 7]])
        let i = try Analyzer.analyze(try Registry.graph("inception_v3"))
        let m = try #require(i.rows.first { $0.name == "Mixed_7c" })
        #expect(m.kind == .container && m.outputShape == [1, 2048, 8, 8])
        #expect(i.rows.contains { $0.kind == .function && $0.type == "cat" })
    }

    @Test func trainModeAddsAuxiliaryHeads() throws {
        let g = try Registry.graph("googlenet")
        let eval = try Analyzer.analyze(g)
        let train = try Analyzer.analyze(g, mode: .train)
        #expect(!eval.rows.contains { $0.name.hasPrefix("aux1") })
        let aux = try #require(train.rows.first { $0.name == "aux1" })
        #expect(aux.trainOnly && aux.kind == .container && aux.outputShape == [1, 1000])
        #expect(train.totals.macs > eval.totals.macs)
        #expect(train.totals.activationBytes > eval.totals.activationBytes)
        #expect(train.totals.params == eval.totals.params)
        // ptflops switches the model to eval itself: its count does not see the heads.
        #expect(try Analyzer.analyze(g, mode: .train, convention: .ptflops).totals.flops
                == (try Analyzer.analyze(g, convention: .ptflops)).totals.flops)
    }

    @Test func trainModeReportsAHeadThatDoesNotFit() throws {
        // Inception v3 runs eval from 75×75, but AuxLogits needs 17×17 features.
        let g = try Registry.graph("inception_v3", input: [1, 3, 75, 75])
        #expect(try Analyzer.analyze(g).totals.macs > 0)
        #expect(throws: ZooError.self) { try Analyzer.analyze(g, mode: .train) }
    }

    @Test func otherInputsBatchesAndArguments() throws {
        let one = try Analyzer.analyze(try Registry.graph("resnet18"))
        let four = try Analyzer.analyze(try Registry.graph("resnet18", input: [4, 3, 224, 224]))
        #expect(four.totals.macs == 4 * one.totals.macs)
        #expect(four.totals.flops == 4 * one.totals.flops)
        #expect(four.totals.activationBytes == 4 * one.totals.activationBytes)
        #expect(four.totals.params == one.totals.params)
        let small = try Analyzer.analyze(try Registry.graph("resnet18", arguments: ["num_classes=10"], input: [1, 3, 64, 64]))
        #expect(small.rows.last?.outputShape == [1, 10])
        #expect(small.totals.params == one.totals.params - 990 * 513)
        // fc: 512·10 + 10 MACs at any input size; conv1 scales with the area.
        #expect(small.row(node: small.graph.output)?.macs == 5120)
    }

    @Test func inputTooSmallNamesLayerAndSmallestInput() throws {
        do {
            _ = try Analyzer.graph("alexnet", input: [1, 3, 32, 32])
            Issue.record("AlexNet accepted 32×32")
        } catch {
            #expect(error.kind == .inputTooSmall)
            #expect(error.modulePath == "features.12")
            #expect(error.description.contains("the smallest input that works is 63×63 (--input 1x3x63x63)"))
        }
        #expect(try Analyzer.graph("alexnet", input: [1, 3, 63, 63]).nodes.count > 0)
        #expect(throws: ZooError.self) { try Analyzer.graph("alexnet", input: [1, 3, 62, 62]) }
        let file = try Registry.load("lenet5")
        #expect(Analyzer.smallestSquareSide(file, overrides: [], batch: 1, channels: 1) == 32)
    }

    @Test func memoryTotals() throws {
        let a = try Analyzer.analyze(try Registry.graph("lenet5"))
        #expect(a.totals.paramBytes == 61_706 * 4)
        #expect(a.totals.inputBytes == 32 * 32 * 4)
        // conv1, relu1, pool1, conv2, relu2, pool2 (flatten is a view), fc1, relu3, fc2, relu4, fc3.
        let act = (2 * 6 * 28 * 28 + 6 * 14 * 14 + 2 * 16 * 10 * 10 + 16 * 5 * 5 + 2 * 120 + 2 * 84 + 10) * 4
        #expect(a.totals.activationBytes == act)
        #expect(a.totals.trainingBytes == 32 * 32 * 4 + act + 3 * 61_706 * 4)
        #expect(Memory.trainingBytes(a.graph, optimizer: .adam) == a.totals.trainingBytes + 61_706 * 4)
        let r = try Analyzer.analyze(try Registry.graph("resnet18"))
        #expect(r.totals.bufferBytes == (9620 - 20) * 4 + 20 * 8)   // 20 BatchNorm2d: num_batches_tracked is int64
    }

    @Test func convlensFlopsPerLayerKind() throws {
        let a = try Analyzer.analyze(try Registry.graph("resnet18"))
        func row(_ n: String) throws -> AnalysisRow { try #require(a.rows.first { $0.name == n }) }
        #expect(try row("conv1").flops == 2 * 118_013_952)                       // no bias
        #expect(try row("bn1").flops == 2 * 64 * 112 * 112)
        #expect(try row("relu").flops == 64 * 112 * 112)
        #expect(try row("maxpool").flops == 64 * 56 * 56 * 8)
        #expect(try row("layer1.0.add").flops == 64 * 56 * 56)
        #expect(try row("avgpool").flops == 512 * 49)
        #expect(try row("fc").flops == 2 * 512_000 + 1000)
        #expect(a.weightLayerCount == 21)                                          // 17 convs + 3 projections + fc
        #expect((try Analyzer.analyze(try Registry.graph("vgg16"))).weightLayerCount == 16)
    }

    @Test func jsonKeepsTheContract() throws {
        let a = try Analyzer.analyze(try Registry.graph("resnet18"))
        let obj = try JSONSerialization.jsonObject(with: Data(a.json().utf8)) as! [String: Any]
        for k in ["model", "input_shape", "mode", "convention", "layers", "totals"] { #expect(obj[k] != nil, "\(k)") }
        let layers = obj["layers"] as! [[String: Any]]
        #expect(layers.count == a.rows.count)
        let conv = try #require(layers.first { $0["name"] as? String == "layer1.0.conv1" })
        for k in ["name", "type", "kind", "depth", "input_shapes", "output_shape", "params", "trainable_params", "buffers",
                  "macs", "flops", "rf", "output_bytes"] { #expect(conv[k] != nil, "\(k)") }
        #expect(conv["macs"] as? Int == 115_605_504)
        #expect(conv["flops"] as? Int == 231_211_008)
        #expect(conv["depth"] as? Int == 3)
        let rf = conv["rf"] as! [String: Any]
        #expect(rf["size"] as? [Int] == [19, 19] && rf["jump"] as? [Int] == [4, 4])
        let totals = obj["totals"] as! [String: Any]
        for k in ["params", "trainable_params", "non_trainable_params", "buffers", "macs", "flops", "param_bytes",
                  "activation_bytes", "training_bytes"] { #expect(totals[k] != nil, "\(k)") }
        #expect(totals["macs"] as? Int == 1_814_073_344)
    }
}
