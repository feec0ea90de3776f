import ConvLensEngine
import ConvLensGraph
import ConvLensTrain
import Foundation
import Testing
import TestSupport

/// `convlens export --format pytorch`, checked by running what it writes under Debian's torch 1.13
/// (`/usr/bin/python3`, python3-torch from .ci/install-deps). Oracles: ConvLens's own state_dict
/// (keys, shapes, order) and `convlens run`'s logits for weights and inputs torch drew; a
/// single-process step with the doubled batch for DDP; `convlens eval` and `compare` reading the run.
@Suite(.serialized) struct PyTorchExportTests {
    /// The seven classic networks and the smallest builder of every other family.
    static let models = Paths.classicAndOnePerFamily

    /// Small inputs keep the test quick: a 1-channel model at its declared size, a 3-channel one at
    /// the smallest of 32, 48, 64, 80 its eval pass accepts; batch 2.
    static func input(_ file: ZooFile) -> [Int] {
        if file.input[1] == 1 { return [2] + Array(file.input[1...]) }
        let s = [32, 48, 64, 80].first { (try? GraphBuilder.build(file, input: [2, 3, $0, $0])) != nil } ?? 96
        return [2, 3, s, s]
    }

    /// Imports each model.py, checks its state_dict against ConvLens's, draws weights and an input
    /// with torch, writes them (with train.py's stdlib safetensors writer) and the eval logits.
    static let checkScript = #"""
    import importlib.util, json, math, sys
    import torch

    # torch's own layer initialisation is overwritten below: skip it (build() of VGG16 is 138 M draws).
    for f in ("kaiming_uniform_", "uniform_", "normal_", "zeros_", "ones_", "trunc_normal_", "constant_"):
        setattr(torch.nn.init, f, lambda t, *a, **k: t)

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
        return m

    manifest = json.load(open(sys.argv[1]))
    tools = load("exported_train", manifest[0]["dir"] + "/train.py")
    results = []
    for i, e in enumerate(manifest):
        net = load("exported_%d" % i, e["dir"] + "/model.py").build()
        sd = net.state_dict()
        keys = [[k, list(v.shape)] for k, v in sd.items()]
        r = {"model": e["model"], "keys": keys == e["keys"], "count": len(keys)}
        if keys != e["keys"]:
            r["difference"] = next(([a, b] for a, b in zip(keys, e["keys"]) if a != b), [len(keys), len(e["keys"])])
        # train.py's table of the zoo file's init lines covers every parameter once; on small
        # models its draws are checked against the distributions it names.
        t = load("exported_train_%d" % i, e["dir"] + "/train.py")
        nc = t.zoo.ARGUMENTS.get("num_classes")
        table = t.INIT[nc] if t.INIT else []
        drawn = [k for _, _, ks in table for k in ks]
        r["init"] = sorted(drawn) == sorted(k for k, _ in net.named_parameters())
        if sum(p.numel() for p in net.parameters()) < 3_000_000:
            torch.manual_seed(i)
            t.init_weights(net, nc)
            params = dict(net.named_parameters())
            bad = []
            for kind, args, ks in table:
                v = torch.cat([params[k].detach().reshape(-1) for k in ks]).double()
                if kind == "constant":
                    ok = bool((v == args[0]).all())
                elif kind in ("uniform", "trunc_normal"):
                    lo, hi = args[-2:]
                    slack = 1e-6 * max(abs(lo), abs(hi))  # the bounds as float32 round
                    ok = bool(((v >= lo - slack) & (v <= hi + slack)).all())
                else:
                    n = v.numel()
                    ok = abs(v.mean().item() - args[0]) <= 5 * args[1] / math.sqrt(n) and (n < 100 or abs(v.std().item() / args[1] - 1) < 0.3)
                if not ok:
                    bad.append([kind, list(args), ks[0]])
            r["init_draws"] = bad
        g = torch.Generator().manual_seed(1000 + i)
        new = {}
        for k, v in sd.items():
            last = k.rsplit(".", 1)[-1]
            if not v.is_floating_point():
                new[k] = v
            elif v.dim() >= 2:
                new[k] = torch.randn(v.shape, generator=g) / math.sqrt(v[0].numel())
            elif last == "running_var":
                new[k] = 0.5 + torch.rand(v.shape, generator=g)
            elif last == "weight":
                new[k] = 1 + 0.2 * torch.randn(v.shape, generator=g)
            else:
                new[k] = 0.1 * torch.randn(v.shape, generator=g)
        net.load_state_dict(new, strict=True)
        net.eval()
        x = torch.rand(e["input"], generator=g) * 2 - 1
        with torch.no_grad():
            y = net(x)
        tools.save_safetensors(new, e["dir"] + "/weights.safetensors")
        tools.save_safetensors({"input": x}, e["dir"] + "/input.safetensors")
        with open(e["dir"] + "/result.json", "w") as f:
            json.dump(r, f)
        tools.save_safetensors({"logits": y}, e["dir"] + "/torch.safetensors")  # last: the test waits for it
    """#

    @Test func generatedModulesMatchTheEngine() throws {
        if let p = SystemPython.torchProblem() { Issue.record(Comment(rawValue: p)); return }
        let tmp = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        var manifest: [[String: Any]] = []
        let user = Paths.fixture("export_user.zoo").path
        for m in Self.models + [user] {
            let file = try Registry.load(m)
            let dir = tmp.appending(path: file.name).path
            _ = try PyTorchExport.write(model: m, arguments: [], weights: nil, output: dir, force: false)
            let g = try GraphBuilder.build(file)
            manifest.append(["model": m, "dir": dir, "input": Self.input(file), "keys": g.stateDict().map { [$0.key, $0.shape] as [Any] }])
        }
        let manifestURL = tmp.appending(path: "manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestURL)
        let scriptURL = tmp.appending(path: "check.py")
        try Self.checkScript.write(to: scriptURL, atomically: true, encoding: .utf8)
        // ConvLens runs each model as soon as torch has written it (the two overlap).
        let python = try SystemPython.start([scriptURL.path, manifestURL.path])
        var checked = 0
        for entry in manifest {
            let m = entry["model"] as! String, dir = entry["dir"] as! String
            while !FileManager.default.fileExists(atPath: dir + "/torch.safetensors") && python.process.isRunning { usleep(20_000) }
            guard FileManager.default.fileExists(atPath: dir + "/torch.safetensors") else { break }
            let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/result.json"))) as? [String: Any])
            #expect(result["keys"] as? Bool == true, "\(m): state_dict differs from ConvLens's at \(result["difference"] ?? "?")")
            #expect(result["init"] as? Bool == true, "\(m): train.py's init table does not cover every parameter once")
            #expect((result["init_draws"] as? [Any])?.isEmpty ?? true, "\(m): init draws off their distribution: \(result["init_draws"] ?? "")")
            let out = dir + "/convlens.safetensors"
            _ = try RunModel.run(model: m, arguments: [], weights: .file(dir + "/weights.safetensors"), inputPath: dir + "/input.safetensors",
                                 training: false, outputPath: out)
            let ours = try SafeTensors.read(out).tensor("logits"), theirs = try SafeTensors.read(dir + "/torch.safetensors").tensor("logits")
            try #require(ours.shape == theirs.shape, "\(m): logits \(ours.shape) vs torch's \(theirs.shape)")
            var scale: Float = 0, diff: Float = 0
            for i in 0..<ours.count { scale = max(scale, abs(theirs[i])); diff = max(diff, abs(ours[i] - theirs[i])) }
            #expect(scale > 0, "\(m): torch's logits are all zero")
            #expect(diff <= 1e-4 * scale, "\(m): max |convlens − torch| = \(diff), max |logit| = \(scale)")
            checked += 1
        }
        let r = python.wait()
        #expect(checked == manifest.count, "torch wrote \(checked) of \(manifest.count) models")
        #expect(r.status == 0, "python: \(r.stderr)")
    }

    @Test func everyKindSpellsItselfAndAnUnsupportedOneIsOneLine() throws {
        let file = try Registry.load("convnet")
        let src = try PyTorchModel.source(file, arguments: [("num_classes", .int(10))])
        #expect(src.contains("self.conv_1 = nn.Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"))
        #expect(src.contains("relu_1 = F.relu(conv_1)"))
        #expect(!src.contains("import torchvision") && !src.contains("convlens import"))
        let speller: PyTorchModel.Speller = { kind, call in kind == MaxPool2d.self ? .unsupported("no such pool in torch") : kind.pytorch(call) }
        #expect(throws: ZooError.self) { try PyTorchModel.source(file, arguments: [], speller: speller) }
        do {
            _ = try PyTorchModel.source(file, arguments: [], speller: speller)
        } catch {
            #expect(error.description == "zoo/convnet.zoo:26:12: error: pool_1: MaxPool2d has no PyTorch equivalent to export (no such pool in torch)")
        }
    }

    @Test func anExistingFolderIsNeverOverwrittenWithoutForce() throws {
        let tmp = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let dir = tmp.appending(path: "out")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("mine\n".utf8).write(to: dir.appending(path: "notes.txt"))
        let r = try runConvLens(["export", "convnet", "--format", "pytorch", "--output", dir.path])
        #expect(r.status == 1)
        #expect(r.stderr == "convlens: error: \(dir.path): already exists; pass --force to replace it (nothing was written)\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["notes.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["out"])
        let f = try runConvLens(["export", "convnet", "--format", "pytorch", "--output", dir.path, "--force", "--init", "hash"])
        #expect(f.status == 0, "\(f.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["README.md", "model.py", "train.py", "weights.safetensors"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == ["out"])
        // An unknown format names the ones there are (onnx is one since `--format onnx` exists).
        let bad = try runConvLens(["export", "convnet", "--format", "tflite", "--output", tmp.appending(path: "x").path])
        #expect(bad.status != 0 && bad.stderr.contains("pytorch") && bad.stderr.contains("onnx"), "\(bad.stderr)")
    }

    /// Two gloo ranks on 127.0.0.1, started as torchrun would (Debian's torchrun fails under Python 3.11).
    static func launch(_ script: String, ranks: Int, _ args: [String]) throws -> [SystemPython.Running] {
        let port = SystemPython.freePort()
        return try (0..<ranks).map { r in
            try SystemPython.start([script] + args, environment: ["RANK": "\(r)", "WORLD_SIZE": "\(ranks)", "LOCAL_RANK": "\(r)",
                                                                "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(port)", "OMP_NUM_THREADS": "1"])
        }
    }

    @Test func distributedTrainingAgreesWithOneProcessAndConvLensReadsTheRun() throws {
        if let p = SystemPython.torchProblem() { Issue.record(Comment(rawValue: p)); return }
        let tmp = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = tmp.appending(path: "data")
        try IDXFixture.writeBars(to: data, train: 96, test: 32, classes: 10, gzip: true)
        let export = tmp.appending(path: "convnet").path
        _ = try PyTorchExport.write(model: "convnet", arguments: [], weights: .defaultInit(seed: 1), output: export, force: false)
        let script = export + "/train.py"
        let common = ["--data", data.path, "--device", "cpu", "--rank-weights"]
        let runs = tmp.appending(path: "runs")
        // One step: two ranks of 8 images vs one process of 16 (the same 16: DistributedSampler splits them).
        let pair = try Self.launch(script, ranks: 2, common + ["--limit", "16", "--batch-size", "8", "--epochs", "1", "--output-dir", tmp.appending(path: "one-step-ddp").path])
        let single = try SystemPython.start([script] + common + ["--limit", "16", "--batch-size", "16", "--epochs", "1", "--output-dir", tmp.appending(path: "one-step-single").path],
                                            environment: ["OMP_NUM_THREADS": "1"])
        // A few steps (3 per epoch per rank, 2 epochs), run at the same time: both ranks hold the same weights.
        let run = runs.appending(path: "convnet-ddp")
        let few = try Self.launch(script, ranks: 2, common + ["--limit", "48", "--batch-size", "8", "--epochs", "2", "--output-dir", run.path])
        for (i, p) in pair.enumerated() { let r = p.wait(); try #require(r.status == 0, "rank \(i): \(r.stderr)") }
        let s = single.wait()
        try #require(s.status == 0, "single process: \(s.stderr)")
        let ddp = try SafeTensors.read(tmp.appending(path: "one-step-ddp/weights.safetensors").path)
        let one = try SafeTensors.read(tmp.appending(path: "one-step-single/weights.safetensors").path)
        let initial = try SafeTensors.read(export + "/weights.safetensors")
        #expect(ddp.names == initial.names)
        for k in ddp.names {
            let a = try ddp.tensor(k), b = try one.tensor(k), w0 = try initial.tensor(k)
            var moved: Float = 0
            for i in 0..<a.count {
                #expect(abs(a[i] - b[i]) <= 1e-6 + 1e-5 * abs(b[i]), "\(k)[\(i)]: DDP \(a[i]) vs one process \(b[i])")
                moved = max(moved, abs(a[i] - w0[i]))
            }
            #expect(moved > 0, "\(k): the step changed nothing")
        }
        for (i, p) in few.enumerated() { let r = p.wait(); try #require(r.status == 0, "rank \(i): \(r.stderr)") }
        let r0 = try SafeTensors.read(run.appending(path: "weights.rank0.safetensors").path)
        let r1 = try SafeTensors.read(run.appending(path: "weights.rank1.safetensors").path)
        for k in r0.names { #expect(r0[k]!.bytes == r1[k]!.bytes, "\(k) differs between the ranks") }
        let held = try FileManager.default.contentsOfDirectory(atPath: run.path)
        for f in ["checkpoint.safetensors", "weights.safetensors", "metrics.csv", "run.json"] { #expect(held.contains(f), "run folder lacks \(f)") }
        let metrics = try readMetrics(run.appending(path: "metrics.csv").path)
        #expect(metrics.map(\.epoch) == [1, 2])
        let ckpt = try Checkpoint.read(run.appending(path: "checkpoint.safetensors").path)
        #expect(ckpt.epoch == 2 && ckpt.optimizerStep == 6 && ckpt.config.model == "convnet" && ckpt.config.batchSize == 8)
        // ConvLens reads the run: eval on its weights, compare on its run.json.
        let summary = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: run.appending(path: "run.json")))
        #expect(summary.input == "28×28 grey → 1×28×28, as is")
        let e = try runConvLens(["eval", "convnet", "--weights", run.appending(path: "weights.safetensors").path, "--data", data.path, "--limit", "48"])
        #expect(e.status == 0, "\(e.stderr)")
        #expect(e.stdout.hasPrefix(String(format: "test accuracy %.4f (32 images)", summary.test_acc)), "\(e.stdout)")
        let c = try runConvLens(["compare", "convnet", "--runs", runs.path, "--format", "json"])
        #expect(c.status == 0, "\(c.stderr)")
        let table = try #require(try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any])
        let rows = try #require(table["models"] as? [[String: Any]])
        #expect(rows.first?["fashion_mnist_acc"] as? Double == summary.test_acc)
        #expect(rows.first?["fashion_mnist_run"] as? String == "runs/convnet-ddp")
    }
}
