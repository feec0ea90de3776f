import ConvLensEngine
import ConvLensGraph
import ConvLensONNX
import Foundation
import Testing
import TestSupport

/// Every export in ../shared/reference/onnx (PyTorch 2.15's two exporters, ONNX Runtime 1.32's
/// logits), checked as a user would: the built binary, the registry model as the oracle.
struct ONNXImportTests {
    static let dir = Paths.reference.appending(path: "onnx")

    /// Every .onnx file there, found by listing (a new export is checked without a test change).
    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".onnx") }.sorted()
    }()

    /// `mobilenet_v3_small.legacy-nofold.onnx` → (registry model, exporter variant).
    static func parts(_ file: String) -> (model: String, variant: String) {
        let stem = String(file.dropLast(5))
        let dot = stem.firstIndex(of: ".")!
        return (String(stem[..<dot]), String(stem[stem.index(after: dot)...]))
    }

    @Test func theReferenceFolderHasExports() {
        #expect(Self.files.count >= 11, "\(Self.files)")
    }

    static func json(_ args: [String]) throws -> [String: Any] {
        let r = try runConvLens(args)
        #expect(r.status == 0, "\(args): \(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// (name, output shape, MACs) of every Conv2d and Linear, in order.
    static func weighted(_ analysis: [String: Any]) -> [String] {
        let layers = analysis["layers"] as? [[String: Any]] ?? []
        return layers.filter { ["Conv2d", "Linear"].contains($0["type"] as? String ?? "") }.map {
            "\($0["name"]!) \($0["output_shape"]!) \($0["macs"]!)"
        }
    }

    @Test(arguments: files)
    func analysisAgreesWithTheRegistryModel(file: String) throws {
        let (model, _) = Self.parts(file)
        let path = Self.dir.appending(path: file).path
        let imported = try Self.json(["analyze", path, "--format", "json"])
        let shape = try #require(imported["input_shape"] as? [Int])
        let registry = try Self.json(["analyze", model, "--input", shape.map(String.init).joined(separator: "x"), "--format", "json"])
        let a = Self.weighted(imported), b = Self.weighted(registry)
        #expect(!a.isEmpty)
        #expect(a == b, "\(file): convolutions and linear layers differ from \(model)'s")
        let ma = (imported["totals"] as? [String: Any])?["macs"] as? Int
        let mb = (registry["totals"] as? [String: Any])?["macs"] as? Int
        #expect(ma != nil && ma == mb, "\(file): total MACs \(ma ?? -1) vs \(model) \(mb ?? -1)")
    }

    @Test(arguments: files)
    func logitsMatchONNXRuntime(file: String) throws {
        let (model, variant) = Self.parts(file)
        let io = try SafeTensors.read(Self.dir.appending(path: "\(model).io.safetensors").path)
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        var inFile = SafeTensors()
        inFile.set("input", try io.tensor("input"))
        let inPath = tmp.appending(path: "in.safetensors").path, outPath = tmp.appending(path: "out.safetensors").path
        try inFile.write(to: inPath)
        let r = try runConvLens(["run", Self.dir.appending(path: file).path, "--input", inPath, "--output", outPath])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try SafeTensors.read(outPath)
        let logits = try out.tensor("logits").values, ref = try io.tensor("logits.ort.\(variant)").values
        #expect(logits.count == ref.count)
        var d = 0.0, n = 0.0
        for (x, y) in zip(logits, ref) { d += Double(x - y) * Double(x - y); n += Double(y) * Double(y) }
        #expect((d / n).squareRoot() <= 1e-4, "\(file): relative error \((d / n).squareRoot()) against ONNX Runtime")
    }

    /// Names recovered: the unfolded export's state_dict is the registry model's, key for key and
    /// shape for shape (initializers keep their names; modules without parameters are named after
    /// the legacy exporter's scopes).
    @Test func unfoldedExportKeepsTheStateDict() throws {
        for file in Self.files where Self.parts(file).variant.contains("nofold") {
            let model = Self.parts(file).model
            let imported = try Registry.graph(Self.dir.appending(path: file).path)
            let registry = try Registry.graph(model, input: imported.inputShape)
            #expect(imported.stateDict().map { "\($0.key) \($0.shape)" } == registry.stateDict().map { "\($0.key) \($0.shape)" })
            let printed = TorchRepr.render(imported)
            let torch = try String(contentsOf: Paths.fixture("\(model).repr.txt"), encoding: .utf8)
            // Every module path torch prints is printed (class names, `inplace` and eval-mode
            // dropouts are not in the file; see README "ONNX in and out").
            func paths(_ text: String) -> [String] {
                text.split(separator: "\n").compactMap { l in
                    guard let o = l.firstIndex(of: "("), let c = l.firstIndex(of: ")"), o < c else { return nil }
                    let name = l[l.index(after: o)..<c]
                    return l.contains("Dropout") ? nil : String(repeating: " ", count: l.prefix { $0 == " " }.count) + name
                }
            }
            #expect(Set(paths(printed)) == Set(paths(torch)), "\(file): printed module names differ from torch's")
        }
    }

    @Test func importWritesAZooFileAndWeightsThatLoadBack() throws {
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let file = Self.dir.appending(path: "shufflenet_v2_x0_5.legacy.onnx").path
        let zoo = tmp.appending(path: "shuffle.zoo").path
        let r = try runConvLens(["import", file, "--output", zoo])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("batch norm folded into them"), "the folded batch norms are reported: \(r.stderr)")
        let text = try String(contentsOfFile: zoo, encoding: .utf8)
        #expect(text.contains("channel_shuffle(2)"))
        #expect(text.contains("torch.chunk(2, dim=1)"))
        let io = try SafeTensors.read(Self.dir.appending(path: "shufflenet_v2_x0_5.io.safetensors").path)
        var inFile = SafeTensors()
        inFile.set("input", try io.tensor("input"))
        try inFile.write(to: tmp.appending(path: "in.safetensors").path)
        let run = try runConvLens(["run", zoo, "--weights", tmp.appending(path: "shuffle.safetensors").path,
                                   "--input", tmp.appending(path: "in.safetensors").path, "--output", tmp.appending(path: "out.safetensors").path])
        #expect(run.status == 0, "\(run.stderr)")
        let a = try SafeTensors.read(tmp.appending(path: "out.safetensors").path).tensor("logits").values
        let b = try io.tensor("logits.ort.legacy").values
        #expect(zip(a, b).map { abs($0 - $1) }.max()! < 1e-3)
    }
}
