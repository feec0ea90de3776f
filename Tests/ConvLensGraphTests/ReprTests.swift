import Foundation
import Testing
import ConvLensGraph
import TestSupport

/// Oracle: `print(model)` from PyTorch 2.15 / torchvision 0.29 (../shared/reference/models/*/repr.txt).
@Suite struct ReprTests {
    @Test(arguments: Paths.referenceModels)
    func printMatchesTorchByteForByte(model: String) throws {
        let g = try Registry.graph(model)
        let expected = try Paths.referenceText(model, "repr.txt")
        #expect(TorchRepr.render(g) == expected)
    }

    /// The builders without a reference folder: torch 2.15's print saved as a fixture.
    @Test(arguments: Paths.fixtureReprModels)
    func printMatchesSavedTorchPrint(model: String) throws {
        let g = try Registry.graph(model)
        let expected = try String(contentsOf: Paths.fixture("\(model).repr.txt"), encoding: .utf8)
        #expect(TorchRepr.render(g) == expected)
    }

    /// Every registry model of torchvision's is in one of the two lists above.
    @Test func everyBuilderHasAnOracle() {
        let covered = Set(Paths.referenceModels + Paths.fixtureReprModels)
        let missing = Paths.registryModels.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "no reference print for: \(missing)")
    }

    /// torchvision with num_classes=N changes exactly the classifier's out_features (and the aux heads').
    @Test(arguments: Paths.referenceModels)
    func numClassesOverride(model: String) throws {
        let reference = try Paths.referenceText(model, "repr.txt")
        let original = model == "lenet5" || model == "convnet" ? "out_features=10," : "out_features=1000,"
        // SqueezeNet's classifier is a 1×1 Conv2d(512, num_classes).
        let expected = reference.replacingOccurrences(of: original, with: "out_features=7,")
            .replacingOccurrences(of: "Conv2d(512, 1000, kernel_size=(1, 1)", with: "Conv2d(512, 7, kernel_size=(1, 1)")
        let g = try Registry.graph(model, arguments: ["num_classes=7"])
        #expect(TorchRepr.render(g) == expected)
        #expect(expected != reference)
    }

    @Test func dropoutOverridePrintsAsTorchDoes() throws {
        let g = try Registry.graph("alexnet", arguments: ["dropout=0.25"])
        let text = TorchRepr.render(g)
        #expect(text.components(separatedBy: "Dropout(p=0.25, inplace=False)").count == 3)
        let gz = try Registry.graph("vgg16", arguments: ["dropout=0"])
        #expect(TorchRepr.render(gz).contains("Dropout(p=0, inplace=False)"))   // torch keeps the int
        let aux = try Registry.graph("googlenet", arguments: ["dropout_aux=0.5"])
        #expect(TorchRepr.render(aux).components(separatedBy: "Dropout(p=0.5, inplace=False)").count == 3)
    }

    /// torchvision sets aux1/aux2 (AuxLogits) to None with aux_logits=False: they vanish from the repr.
    @Test(arguments: [("googlenet", ["aux1", "aux2"]), ("inception_v3", ["AuxLogits"])])
    func auxLogitsFalseDropsHeads(model: String, heads: [String]) throws {
        var lines = try Paths.referenceText(model, "repr.txt").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for head in heads {
            let start = try #require(lines.firstIndex(of: "  (\(head)): InceptionAux("))
            let end = try #require(lines[start...].firstIndex(of: "  )"))
            lines.removeSubrange(start...end)
        }
        let g = try Registry.graph(model, arguments: ["aux_logits=false"])
        #expect(TorchRepr.render(g) == lines.joined(separator: "\n"))
        #expect(g.auxOutputs.isEmpty)
        #expect(g.nodes.allSatisfy { !$0.trainOnly })
    }

    @Test func pythonFloatReprMatchesPython() {
        let cases: [(Double, String)] = [(0.5, "0.5"), (1e-05, "1e-05"), (0.001, "0.001"), (0.1, "0.1"), (0.0001, "0.0001"),
                                         (1e16, "1e+16"), (123456789.0, "123456789.0"), (2.0, "2.0"), (0.7, "0.7"),
                                         (1.5e-7, "1.5e-07"), (-0.25, "-0.25"), (1e22, "1e+22"), (12345.678, "12345.678")]
        for (v, s) in cases { #expect(pythonFloatRepr(v) == s, "\(v)") }
    }
}
