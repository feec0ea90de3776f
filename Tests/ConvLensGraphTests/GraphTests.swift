import Foundation
import Testing
@testable import ConvLensGraph
import TestSupport

/// Oracle: PyTorch's per-layer table (layers.json: leaf modules in forward order, eval mode).
@Suite struct GraphTests {
    @Test(arguments: Paths.referenceModels)
    func moduleCallsMatchTorchForwardOrder(model: String) throws {
        let g = try Registry.graph(model, input: Paths.referenceInput(model))
        let json = try #require(Paths.referenceJSON(model, "layers.json") as? [String: Any])
        let layers = try #require(json["layers"] as? [[String: Any]])
        let calls = g.nodes(training: false).filter { $0.kind == .module }
        #expect(calls.count == layers.count)
        for (node, ref) in zip(calls, layers) {
            #expect(node.name == ref["name"] as? String)
            #expect(node.typeName == ref["type"] as? String, "\(node.name)")
            #expect(node.inputShapes.first == ref["input_shape"] as? [Int], "\(node.name)")
            #expect(node.outputShape == ref["output_shape"] as? [Int], "\(node.name)")
            let params = node.layer.spec.parameters.reduce(0) { $0 + $1.count }
            #expect(params == ref["params"] as? Int, "\(node.name)")
            let buffers = node.layer.spec.buffers.reduce(0) { $0 + $1.count }
            #expect(buffers == ref["buffers"] as? Int, "\(node.name)")
        }
    }

    @Test(arguments: Paths.referenceModels)
    func stateDictTotalsMatchTorch(model: String) throws {
        let g = try Registry.graph(model, input: Paths.referenceInput(model))
        let totals = try #require(Paths.referenceJSON(model, "totals.json") as? [String: Any])
        #expect(g.parameterCount == totals["params"] as? Int)
        #expect(g.bufferCount == totals["buffers"] as? Int)
    }

    @Test func resnetReluIsCalledTwicePerBlock() throws {
        let g = try Registry.graph("resnet18")
        let names = g.nodes.map(\.name)
        #expect(names.filter { $0 == "layer1.0.relu" }.count == 2)
        #expect(names.filter { $0 == "relu" }.count == 1)
        let adds = g.nodes.filter { $0.name == "layer2.0.add" }
        #expect(adds.count == 1)
        let add = adds[0]
        #expect(add.kind == .function)
        #expect(add.inputs.map { g.nodes[$0].name } == ["layer2.0.bn2", "layer2.0.downsample.1"])
        // The module path is a state_dict key owner: both relu calls point at one module.
        let reluModules = Set(g.nodes.filter { $0.name == "layer1.0.relu" }.compactMap(\.module))
        #expect(reluModules.count == 1)
    }

    @Test func auxHeadsAreTrainOnlyAndRegisteredWhereTorchRegistersThem() throws {
        let g = try Registry.graph("googlenet")
        let top = g.root.children.map { g.modules[$0].name }
        #expect(top.firstIndex(of: "aux1")! > top.firstIndex(of: "inception5b")!)
        let aux = g.nodes.filter(\.trainOnly)
        #expect(!aux.isEmpty && aux.allSatisfy { $0.name.hasPrefix("aux") })
        // aux1 runs right after inception4a, on its output.
        let firstAux = try #require(g.nodes.first { $0.name.hasPrefix("aux1") })
        #expect(g.nodes[firstAux.index - 1].name.hasPrefix("inception4a"))
        #expect(g.auxOutputs.count == 2)
        #expect(g.auxOutputs.allSatisfy { g.nodes[$0].outputShape == [1, 1000] })
        let inc = try Registry.graph("inception_v3")
        #expect(inc.auxOutputs.count == 1)
        #expect(inc.nodes[inc.auxOutputs[0]].name == "AuxLogits.fc")
    }

    @Test func stateDictKeysFollowTorchNaming() throws {
        let keys = try Registry.graph("resnet18").stateDict().map(\.key)
        #expect(keys.prefix(7) == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight"])
        #expect(keys.contains("layer2.0.downsample.0.weight"))
        #expect(keys.last == "fc.bias")
        #expect(keys.count == 122)
    }

    @Test func otherInputSizesAndBatches() throws {
        let g = try Registry.graph("resnet18", input: [4, 3, 64, 64])
        #expect(g.nodes[g.output].outputShape == [4, 1000])
        let inc = try Registry.graph("inception_v3", input: [2, 3, 75, 75])
        #expect(inc.nodes[inc.output].outputShape == [2, 1000])
        // torchvision's AuxLogits cannot run at 75×75 (3×3 features into a 5×5 pool): eval works, training reports why.
        #expect(inc.trainingProblem?.modulePath == "AuxLogits.pool0")
        #expect(inc.auxOutputs.isEmpty && !inc.nodes.contains { $0.trainOnly })
        #expect(try Registry.graph("inception_v3").trainingProblem == nil)
    }

    /// torch's ceil_mode rule: the last window must start inside the input or left padding.
    @Test func ceilModeOutputLengths() {
        #expect(ShapeCheck.windowOutput(112, k: 3, s: 2, p: 0, d: 1, ceil: true) == 56)
        #expect(ShapeCheck.windowOutput(112, k: 3, s: 2, p: 0, d: 1, ceil: false) == 55)
        #expect(ShapeCheck.windowOutput(14, k: 2, s: 2, p: 0, d: 1, ceil: true) == 7)
        #expect(ShapeCheck.windowOutput(5, k: 2, s: 2, p: 1, d: 1, ceil: true) == 3)    // torch: 3, not 4
        #expect(ShapeCheck.windowOutput(6, k: 3, s: 3, p: 1, d: 1, ceil: true) == 3)    // last window starts at 6 < n + p = 7: kept
    }

    @Test func argumentParsing() throws {
        let nc = try GraphBuilder.parseArgument("num_classes=10")
        #expect(nc.0 == "num_classes" && nc.1 == .int(10))
        #expect(try GraphBuilder.parseArgument("dropout=0.3").1 == .float(0.3))
        #expect(try GraphBuilder.parseArgument("aux_logits=false").1 == .bool(false))
        #expect(throws: ZooError.self) { try GraphBuilder.parseArgument("nonsense") }
        #expect(try Registry.parseShape("2x3x64x64") == [2, 3, 64, 64])
        #expect(throws: ZooError.self) { try Registry.parseShape("3x32") }
        // --input means N×C×H×W everywhere: three sizes, empty fields and trailing x's are errors.
        for bad in ["3x32x32", "1xx1x28x28", "1x1x28x28x", "x1x1x28x28", "1x1x28x0", "1x1x28x-3"] {
            do { _ = try Registry.parseShape(bad); Issue.record("accepted \(bad)") } catch {
                #expect(error.message.contains("--input expects four positive sizes N×C×H×W"), "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
        do { _ = try Registry.parseShape("1x3x224") } catch { #expect(error.message.contains("if that is C×H×W, give the batch too: 1x1x3x224")) }
    }
}

/// The builder constructs a statement's layer once per distinct value of the names it uses
/// (Builder.construct): instances with other values, or values that print apart, get their own.
@Suite struct ConstructMemoTests {
    static let text = """
    model m
    input 1 4 8 8
    block B(c, p) {
      conv = Conv2d(c, c, kernel_size=3, padding=1)
      drop = Dropout(p=p)
      bn = BatchNorm2d(c)
      act = ReLU(inplace=True)
    }
    a = B(4, 0.0)
    b = B(4, 0.0)
    c = B(4, -0.0)
    d = Conv2d(4, 6, kernel_size=1)
    e = B(6, 0.5)
    """

    @Test func instancesKeepTheirOwnArguments() throws {
        let g = try GraphBuilder.build(try ZooParser.parse(Self.text, file: "memo.zoo"))
        func module(_ path: String) throws -> ModuleEntry { try #require(g.modules.first { $0.path == path }) }
        #expect(try module("a.conv").spec?.parameters.map(\.shape) == [[4, 4, 3, 3], [4]])
        #expect(try module("e.conv").spec?.parameters.map(\.shape) == [[6, 6, 3, 3], [6]])
        #expect(try module("e.conv").elements.parameters == 6 * 6 * 9 + 6)
        #expect(try module("a.drop").spec?.extraRepr == "p=0.0, inplace=False")
        #expect(try module("b.drop").spec?.extraRepr == "p=0.0, inplace=False")
        #expect(try module("c.drop").spec?.extraRepr == "p=-0.0, inplace=False")
        #expect(try module("e.drop").spec?.extraRepr == "p=0.5, inplace=False")
        #expect(try module("b.bn").elements.buffers == 4 + 4 + 1)
        #expect(try module("e.bn").elements.buffers == 6 + 6 + 1)
        #expect(try module("e.act").spec?.extraRepr == "inplace=True")
        #expect(g.nodes.map(\.outputShape) == Array(repeating: [1, 4, 8, 8], count: 12) + Array(repeating: [1, 6, 8, 8], count: 5))
    }

    @Test func aRepeatedBlockCountsEveryInstancesParameters() throws {
        let g = try GraphBuilder.build(try ZooParser.parse(Self.text, file: "memo.zoo"))
        let perB4 = 4 * 4 * 9 + 4 + 4 + 4, perB6 = 6 * 6 * 9 + 6 + 6 + 6
        #expect(g.parameterCount == 3 * perB4 + (4 * 6 + 6) + perB6)
    }
}
