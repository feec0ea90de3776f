import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// The `convlens run` contract, at library level and through the built binary.
struct RunModelTests {
    /// IN (input + target) and weights files cut from a reference vector file.
    static func split(_ model: String, dir: URL) throws -> (input: String, weights: String, ref: SafeTensors) {
        let ref = try SafeTensors.read(EnginePaths.vectors(model))
        let graph = try Registry.graph(model)
        var inp = SafeTensors(), w = SafeTensors()
        inp.set(ref["input"]!); inp.set(ref["target"]!)
        for e in graph.stateDict() { w.set(ref[e.key]!) }
        let ip = dir.appending(path: "in.safetensors").path, wp = dir.appending(path: "w.safetensors").path
        try inp.write(to: ip); try w.write(to: wp)
        return (ip, wp, ref)
    }

    @Test func runWritesTheContract() throws {
        let dir = try EnginePaths.temporaryDirectory()
        let (ip, wp, ref) = try Self.split("lenet5", dir: dir)
        let op = dir.appending(path: "out.safetensors").path
        let s = try RunModel.run(model: "lenet5", arguments: [], weights: .file(wp), inputPath: ip, training: true, outputPath: op)
        #expect(s.logitsShape == [4, 10])
        let out = try SafeTensors.read(op)
        #expect(relativeError(try out.tensor("logits"), try ref.tensor("logits.train")) <= 1e-4)
        #expect(relativeError(try out.tensor("loss"), try ref.tensor("loss.train")) <= 1e-3)
        #expect(relativeError(try out.tensor("grad.input"), try ref.tensor("grad.input")) <= 1e-3)
        for k in ["conv1.weight", "conv1.bias", "fc3.weight"] {
            #expect(relativeError(try out.tensor("grad.\(k)"), try ref.tensor("grad.\(k)")) <= 1e-3)
        }
        #expect(out.names.filter { $0.hasPrefix("grad.") }.count == 11)   // input + 10 parameters
    }

    @Test func trainModeWritesRunningStatsAndAuxLogits() throws {
        let dir = try EnginePaths.temporaryDirectory()
        let graph = try Registry.graph("googlenet", arguments: ["num_classes=5"], input: [2, 3, 96, 96])
        var inp = SafeTensors()
        inp.set("input", HashInit.input(shape: graph.inputShape))
        inp.set("target", int64: [1, 3], shape: [2])
        let ip = dir.appending(path: "in.safetensors").path, op = dir.appending(path: "out.safetensors").path
        try inp.write(to: ip)
        let s = try RunModel.run(model: "googlenet", arguments: ["num_classes=5", "dropout=0", "dropout_aux=0"], weights: .hash,
                                 inputPath: ip, training: true, outputPath: op)
        let out = try SafeTensors.read(op)
        #expect(out["aux_logits.aux1"]?.shape == [2, 5])
        #expect(out["aux_logits.aux2"]?.shape == [2, 5])
        #expect(out["running.conv1.bn.running_mean"]?.shape == [64])
        #expect(out["running.conv1.bn.running_var"] != nil)
        // loss = main + 0.3·(aux1 + aux2)
        #expect(s.loss! > s.mainLoss!)
        #expect(out.names.filter { $0.hasPrefix("grad.aux1.") }.count > 0)
    }

    @Test func wrongInputShapeIsOneLine() throws {
        let dir = try EnginePaths.temporaryDirectory()
        var inp = SafeTensors()
        inp.set("input", Tensor(zeros: [1, 3, 28, 28]))
        let ip = dir.appending(path: "in.safetensors").path
        try inp.write(to: ip)
        do {
            _ = try RunModel.run(model: "convnet", arguments: [], weights: .hash, inputPath: ip, training: false,
                                 outputPath: dir.appending(path: "out.safetensors").path)
            Issue.record("accepted a 3-channel input for convnet")
        } catch {
            #expect("\(error)".contains("channels"))
            #expect(!FileManager.default.fileExists(atPath: dir.appending(path: "out.safetensors").path))
        }
    }

    // Process tests: the built binary.

    @Test func cliRunAndErrors() throws {
        let dir = try EnginePaths.temporaryDirectory()
        let (ip, wp, ref) = try Self.split("convnet", dir: dir)
        let op = dir.appending(path: "out.safetensors").path
        let ok = try runConvLens(["run", "convnet", "--weights", wp, "--input", ip, "--output", op])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(relativeError(try SafeTensors.read(op).tensor("logits"), try ref.tensor("logits.eval")) <= 1e-4)

        // Truncated weights file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: wp))
        let tp = dir.appending(path: "truncated.safetensors").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: tp))
        let bad = try runConvLens(["run", "convnet", "--weights", tp, "--input", ip, "--output", dir.appending(path: "o2.safetensors").path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("truncated.safetensors"))
        #expect(bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appending(path: "o2.safetensors").path))

        // Weights of another model (convnet's weights, a LeNet5-shaped input).
        var l = SafeTensors()
        l.set("input", Tensor(zeros: [1, 1, 32, 32]))
        let lp = dir.appending(path: "lenet-in.safetensors").path
        try l.write(to: lp)
        let other = try runConvLens(["run", "lenet5", "--weights", wp, "--input", lp, "--output", op])
        #expect(other.status == 1)
        #expect(other.stderr.contains("missing keys") && other.stderr.contains("unexpected keys"), "\(other.stderr)")
    }

    @Test func cliVerifyPasses() throws {
        let r = try runConvLens(["verify", "lenet5"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("checks passed"))
    }
}
