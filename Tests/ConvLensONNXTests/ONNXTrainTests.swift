import ConvLensEngine
import Foundation
import Testing
import TestSupport

/// `convlens train FILE.onnx` fine-tunes the imported model from the file's own weights, and the
/// run's weights.safetensors runs back with the ONNX file.
struct ONNXTrainTests {
    @Test func trainingStartsFromTheFilesWeights() throws {
        let onnx = Paths.reference.appending(path: "onnx/convnet.legacy.onnx").path
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let run = tmp.appending(path: "run").path
        let r = try runConvLens(["train", onnx, "--epochs", "1", "--limit", "32", "--batch-size", "16", "--lr", "1e-9", "--output-dir", run])
        #expect(r.status == 0, "\(r.stderr)")
        let trained = try SafeTensors.read(run + "/weights.safetensors")
        let zoo = tmp.appending(path: "convnet.zoo").path
        #expect(try runConvLens(["import", onnx, "--output", zoo]).status == 0)
        let original = try SafeTensors.read(tmp.appending(path: "convnet.safetensors").path)
        #expect(trained.names.sorted() == original.names.sorted())
        for name in original.names {
            let a = try trained.tensor(name).values, b = try original.tensor(name).values
            #expect(zip(a, b).map { abs($0 - $1) }.max()! < 1e-5, "\(name) does not start from the file's weights")
        }
        // The fine-tuned weights run with the ONNX file in place of its own.
        var input = SafeTensors()
        input.set("input", Tensor(shape: [1, 1, 28, 28], values: (0..<784).map { Float($0 % 17) / 17 }))
        try input.write(to: tmp.appending(path: "in.safetensors").path)
        let back = try runConvLens(["run", onnx, "--weights", run + "/weights.safetensors", "--input", tmp.appending(path: "in.safetensors").path,
                                    "--output", tmp.appending(path: "out.safetensors").path])
        #expect(back.status == 0, "\(back.stderr)")
    }
}
