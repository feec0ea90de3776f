import ConvLensEngine
import ConvLensGraph
import Foundation
import Testing
import TestSupport

/// An import that is, module for module, a registry model prints as torch prints it (the file's
/// missing classes, `inplace` flags and Dropouts taken from the registry), and nothing else is
/// taken for one.
struct ONNXRecognitionTests {
    static let dir = ONNXImportTests.dir

    /// torch's own print of a registry model: the reference folder's or the fixture.
    static func torchPrint(_ model: String) throws -> String {
        let ref = Paths.referenceModel(model, "repr.txt")
        let url = FileManager.default.fileExists(atPath: ref.path) ? ref : Paths.fixture("\(model).repr.txt")
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Every reference export either prints exactly as torch prints its model (recognised), or
    /// is a file whose batch norms the exporter folded (which must not be taken for the model).
    /// The unfolded MobileNetV3 export, which names no classes, must be recognised.
    @Test(arguments: ONNXImportTests.files)
    func recognisedExportsPrintAsTorch(file: String) throws {
        let (model, variant) = ONNXImportTests.parts(file)
        let path = Self.dir.appending(path: file).path
        let r = try runConvLens(["print", path])
        #expect(r.status == 0, "\(r.stderr)")
        let recognised = r.stderr.contains("recognised as the registry's \(model)")
        let hasBatchNorm = try Registry.graph(model).stateDict().contains { $0.key.hasSuffix("running_mean") }
        let folded = hasBatchNorm && !variant.contains("nofold")
        if folded {
            #expect(!recognised, "\(file): batch norms folded by the exporter, yet taken for \(model)")
        } else {
            #expect(recognised, "\(file): not recognised as \(model): \(r.stderr)")
            #expect(r.stdout == (try Self.torchPrint(model)), "\(file): the print differs from torch's print(model)")
        }
    }

    static func file(_ model: String, _ edit: (String) -> String) throws -> ZooFile {
        try ZooParser.parse(edit(try #require(Registry.embeddedText(model))), file: "user.zoo")
    }

    @Test func aDifferentNetworkIsNotTakenForARegistryModel() throws {
        let same = try Self.file("convnet") { $0 }
        #expect(Registry.recognize(same)?.name == "convnet")
        // Another activation, another pooling, another epsilon, an activation left out: the same
        // parameters, not the same model.
        let edits: [(model: String, what: String, from: String, to: String)] = [
            ("resnet18", "activation", "ReLU(inplace=True)", "ReLU6(inplace=True)"),
            ("convnet", "pooling", "MaxPool2d(", "AvgPool2d("),
            ("resnet18", "epsilon", "BatchNorm2d(64)", "BatchNorm2d(64, eps=0.001)"),
            ("convnet", "activation left out", "relu_2   = F.relu", "relu_2   = F.dropout(p=0.5)"),
        ]
        for e in edits {
            let text = try #require(Registry.embeddedText(e.model))
            #expect(text.contains(e.from), "\(e.model).zoo has no '\(e.from)' to edit")
            let edited = try ZooParser.parse(text.replacingOccurrences(of: e.from, with: e.to), file: "user.zoo")
            #expect((try? GraphBuilder.build(edited)) != nil, "the \(e.what) edit does not build")
            #expect(Registry.recognize(edited) == nil, "\(e.model) with another \(e.what) was recognised")
        }
    }

    @Test func anotherClassCountIsStillTheModel() throws {
        let ten = try Self.file("resnet18") { $0.replacingOccurrences(of: "param num_classes = 1000", with: "param num_classes = 10") }
        let r = try #require(Registry.recognize(ten))
        #expect(r.name == "resnet18")
        let g = try GraphBuilder.build(r.file)
        #expect(g.nodes.last?.outputShape == [1, 10])
        #expect(r.file.path == "user.zoo")
        #expect(!r.file.meta.contains { $0.key.hasPrefix("imagenet_") }, "torchvision's published figures describe its weights, not the file's")
    }

    @Test func importWritesTheRegistryDescription() throws {
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let zoo = tmp.appending(path: "small.zoo").path
        let r = try runConvLens(["import", Self.dir.appending(path: "mobilenet_v3_small.legacy-nofold.onnx").path, "--output", zoo])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("recognised as the registry's mobilenet_v3_small"))
        let printed = try runConvLens(["print", zoo])
        #expect(printed.stdout == (try Self.torchPrint("mobilenet_v3_small")))
        let text = try String(contentsOfFile: zoo, encoding: .utf8)
        #expect(text.hasPrefix("# Imported from mobilenet_v3_small.legacy-nofold.onnx"))
        #expect(!text.contains("meta imagenet_"))
        // The weights written beside it are the file's, under the registry's state_dict keys.
        let st = try SafeTensors.read(tmp.appending(path: "small.safetensors").path)
        let keys = try Registry.graph("mobilenet_v3_small").stateDict().map(\.key)
        #expect(Set(st.names) == Set(keys))
    }
}
