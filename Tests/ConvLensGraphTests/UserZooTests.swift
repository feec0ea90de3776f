import Foundation
import Testing
import ConvLensGraph
import TestSupport

/// The format is general: networks outside the registry, written by a user, print torch's repr.
/// Oracle: print(model) from torchvision 0.29 (Tests/Fixtures/*.repr.txt).
@Suite struct UserZooTests {
    @Test(arguments: ["resnet34", "vgg11_bn"])
    func userFilePrintsTorchRepr(name: String) throws {
        let path = Paths.fixture("\(name).zoo").path
        let g = try Registry.graph(path)
        let expected = try String(contentsOf: Paths.fixture("\(name).repr.txt"), encoding: .utf8)
        #expect(TorchRepr.render(g) == expected)
    }

    @Test func userFileThroughTheCLI() throws {
        let r = try runConvLens(["print", Paths.fixture("resnet34.zoo").path])
        #expect(r.status == 0)
        #expect(r.stdout == (try String(contentsOf: Paths.fixture("resnet34.repr.txt"), encoding: .utf8)))
    }

    @Test func registryThroughTheCLI() throws {
        for model in ["convnet", "googlenet"] {
            let r = try runConvLens(["print", model])
            #expect(r.status == 0)
            #expect(r.stdout == (try Paths.referenceText(model, "repr.txt")))
        }
        let list = try runConvLens(["list", "--flat"])
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.count == Paths.registryModels.count)
        #expect(lines.count == 70)
        #expect(lines.first?.hasPrefix("LeNet") == true)
        #expect(lines.first?.contains("lenet5") == true)
        #expect(lines.first?.contains("61,706 params") == true)
        #expect(lines.first?.contains("1x1x32x32") == true)
        // Grouped by family; a prefix picks every family it starts.
        let regnet = try runConvLens(["list", "--family", "regnet"])
        #expect(regnet.status == 0)
        #expect(regnet.stdout.contains("RegNet X (7)") && regnet.stdout.contains("RegNet Y (8)"))
        #expect(!regnet.stdout.contains("resnet"))
        let none = try runConvLens(["list", "--family", "transformer"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no family starts with 'transformer'"))
    }
}
