import ConvLensEngine
import ConvLensGraph
import Foundation
import Testing
import TestSupport

/// `convlens export --format onnx`, checked by the peers: ONNX's own checker
/// (`check_model(full_check=True)`, which runs shape inference against our value_info) and ONNX
/// Runtime's logits against `convlens run`'s, for the seven classic networks and the smallest
/// builder of every other family, all in one Python process (the venv `.ci/install-deps` makes).
/// Then the export is imported back: `print` and the analysis (every module's name, type, output
/// shape, parameters and MACs; the totals) must be the registry model's.
@Suite(.serialized) struct ONNXExportTests {
    /// The seven classic networks and the smallest builder of every other family.
    static let models = Paths.classicAndOnePerFamily

    /// Small inputs keep the test quick (as the PyTorch export tests choose them); AlexNet and VGG
    /// at a size whose adaptive pool has uneven bins, the export's MatMul form of it.
    static func input(_ model: String) throws -> [Int] {
        let file = try Registry.load(model)
        if file.input[1] == 1 { return [1] + Array(file.input[1...]) }
        let s = [32, 48, 64, 80].first { (try? GraphBuilder.build(file, input: [2, 3, $0, $0])) != nil } ?? 96
        return [2, 3, s, s]
    }

    /// Eval mode never runs the auxiliary heads, so the export has none: compare with the model built without them.
    static func arguments(_ model: String) -> [String] {
        ["googlenet", "inception_v3"].contains(model) ? ["--arg", "aux_logits=False"] : []
    }

    /// Checks every manifest entry: onnx.checker (full_check), then ONNX Runtime on `input` of IN
    /// against `logits` of OUT (both safetensors, read with the standard library).
    static let checkScript = #"""
    import json, struct, sys
    import numpy as np, onnx, onnxruntime as ort

    def read_safetensors(path):
        b = open(path, "rb").read()
        n = struct.unpack("<Q", b[:8])[0]
        header = json.loads(b[8:8 + n])
        out = {}
        for k, v in header.items():
            if k == "__metadata__":
                continue
            s, e = v["data_offsets"]
            out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype={"F32": np.float32, "I64": np.int64}[v["dtype"]]).reshape(v["shape"])
        return out

    ort.set_default_logger_severity(3)
    results = []
    for e in json.load(open(sys.argv[1])):
        r = {"model": e["model"]}
        try:
            m = onnx.load(e["onnx"])
            onnx.checker.check_model(m, full_check=True)
            r["checker"] = "ok"
            r["opset"] = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
            r["ir_version"] = m.ir_version
            r["names"] = [n.name for n in m.graph.node]
            r["initializers"] = [t.name for t in m.graph.initializer]
            r["value_info"] = len(m.graph.value_info)
            r["doc"] = m.doc_string
            r["producer"] = m.producer_name
            r["scopes"] = sum(1 for n in m.graph.node if any(p.key == "pkg.torch.onnx.name_scopes" for p in n.metadata_props))
            x = read_safetensors(e["input"])["input"]
            ref = read_safetensors(e["output"])["logits"]
            y = ort.InferenceSession(e["onnx"], providers=["CPUExecutionProvider"]).run(["logits"], {"input": x})[0]
            r["shape"] = list(y.shape) == list(ref.shape)
            r["rel"] = float(np.max(np.abs(y - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
        except Exception as ex:
            r["error"] = type(ex).__name__ + ": " + str(ex).splitlines()[0][:300]
        results.append(r)
    print(json.dumps(results))
    """#

    static func check(_ manifest: [[String: String]], in dir: URL) throws -> [[String: Any]] {
        if let problem = ONNXPython.problem() { Issue.record(Comment(rawValue: problem)); return [] }
        let path = dir.appending(path: "manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: path)
        let r = try ONNXPython.run(checkScript, [path.path])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    }

    /// A deterministic input under `input` (hash_init's input rule is not needed: any values do).
    static func writeInput(_ shape: [Int], to path: String) throws {
        let n = shape.reduce(1, *)
        var st = SafeTensors()
        st.set("input", Tensor(shape: shape, values: (0..<n).map { Float(($0 * 7919) % 1999) / 999.5 - 1 }))
        try st.write(to: path)
    }

    /// hash_init's state_dict of the model (as `--init hash` draws it) as a safetensors file.
    static func writeHashWeights(_ model: String, _ args: [String], _ shape: [Int], to path: String) throws {
        let graph = try Registry.graph(model, arguments: args.filter { $0 != "--arg" }, input: shape)
        let state = HashInit.stateDict(graph)
        var st = SafeTensors()
        for e in graph.stateDict() { st.set(e.key, state[e.key]!) }
        try st.write(to: path)
    }

    /// Every module row (name, type, output shape, params, MACs) and the totals' params and MACs.
    static func moduleRows(_ args: [String]) throws -> [String] {
        let r = try runConvLens(["analyze"] + args + ["--format", "json"])
        #expect(r.status == 0, "\(args): \(r.stderr)")
        guard let a = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else { return [] }
        let rows = (a["layers"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "module" }.map {
            "\($0["name"]!) \($0["type"]!) \($0["output_shape"]!) \($0["params"]!) \($0["macs"]!)"
        }
        let t = a["totals"] as? [String: Any] ?? [:]
        return rows + ["totals \(t["params"] ?? "?") \(t["macs"] ?? "?")"]
    }

    @Test func exportsPassTheCheckerRunInONNXRuntimeAndImportBack() throws {
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        var manifest: [[String: String]] = []
        for model in Self.models {
            let shape = try Self.input(model), args = Self.arguments(model)
            let onnx = tmp.appending(path: "\(model).onnx").path, inp = tmp.appending(path: "\(model).in.safetensors").path
            let out = tmp.appending(path: "\(model).out.safetensors").path
            // hash_init once, here, for both the export and the run (it is the slow part in a debug build).
            let weights = tmp.appending(path: "\(model).weights.safetensors").path
            try Self.writeHashWeights(model, args, shape, to: weights)
            let e = try runConvLens(["export", model, "--format", "onnx", "--weights", weights, "--input", shape.map(String.init).joined(separator: "x"),
                                     "--output", onnx] + args)
            #expect(e.status == 0, "\(model): \(e.stderr)")
            try Self.writeInput(shape, to: inp)
            let r = try runConvLens(["run", model, "--weights", weights, "--input", inp, "--output", out] + args)
            #expect(r.status == 0, "\(model): \(r.stderr)")
            manifest.append(["model": model, "onnx": onnx, "input": inp, "output": out])

            // The import gives the model back.
            let printed = try runConvLens(["print", onnx])
            #expect(printed.status == 0, "\(model): \(printed.stderr)")
            let original = try runConvLens(["print", model] + args)
            #expect(printed.stdout == original.stdout, "\(model): the imported export prints differently")
            let back = try Self.moduleRows([onnx]), rows = try Self.moduleRows([model, "--input", shape.map(String.init).joined(separator: "x")] + args)
            #expect(back == rows, "\(model): first difference \(zip(back, rows).first { $0 != $1 }.map { "\($0) vs \($1)" } ?? "in the count")")
        }
        let results = try Self.check(manifest, in: tmp)
        #expect(results.count == manifest.count)
        for r in results {
            let model = r["model"] as? String ?? "?"
            #expect(r["error"] == nil, "\(model): \(r["error"] ?? "")")
            guard r["error"] == nil else { continue }
            #expect(r["checker"] as? String == "ok")
            #expect(r["opset"] as? [Int] == [18] && r["ir_version"] as? Int == 8, "\(model): \(r["opset"] ?? "") \(r["ir_version"] ?? "")")
            #expect(r["producer"] as? String == "ConvLens" && (r["doc"] as? String ?? "").contains("zoo/\(model).zoo"), "\(model): \(r["doc"] ?? "")")
            #expect(r["shape"] as? Bool == true, "\(model): logits shape")
            #expect((r["rel"] as? Double ?? 1) < 1e-4, "\(model): ONNX Runtime's logits differ from convlens run's by \(r["rel"] ?? "?") (relative)")
            // Node names are the module paths; initializers the state_dict keys; every node scoped.
            let graph = try Registry.graph(model, arguments: Self.arguments(model).filter { $0 != "--arg" }, input: try Self.input(model))
            let names = Set(r["names"] as? [String] ?? [])
            for node in graph.nodes(training: false) where node.kind == .module {
                #expect(names.contains(node.name) || names.contains { $0.hasPrefix(node.name + "/") || $0.hasPrefix(node.name + "#") },
                        "\(model): no ONNX node named after \(node.name)")
            }
            let keys = graph.stateDict().filter { $0.localName != "num_batches_tracked" }.map(\.key)
            #expect(Array((r["initializers"] as? [String] ?? []).prefix(keys.count)) == keys, "\(model): initializers are not the state_dict in order")
            #expect(r["scopes"] as? Int == names.count, "\(model): nodes without pkg.torch.onnx.name_scopes")
            #expect((r["value_info"] as? Int ?? 0) > 0)
        }
    }

    /// A fine-tuned imported model's weights go back into the ONNX export, and ONNX Runtime runs them.
    @Test func trainedWeightsOfAnImportedModelExportBack() throws {
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let first = tmp.appending(path: "convnet.onnx").path
        #expect(try runConvLens(["export", "convnet", "--format", "onnx", "--init", "hash", "--output", first]).status == 0)
        let run = tmp.appending(path: "run").path
        let t = try runConvLens(["train", first, "--epochs", "1", "--limit", "64", "--batch-size", "16", "--output-dir", run])
        #expect(t.status == 0, "\(t.stderr)")
        let weights = run + "/weights.safetensors"
        let again = tmp.appending(path: "trained.onnx").path
        let e = try runConvLens(["export", first, "--format", "onnx", "--weights", weights, "--output", again])
        #expect(e.status == 0, "\(e.stderr)")
        let inp = tmp.appending(path: "in.safetensors").path, out = tmp.appending(path: "out.safetensors").path
        try Self.writeInput([1, 1, 28, 28], to: inp)
        let r = try runConvLens(["run", first, "--weights", weights, "--input", inp, "--output", out])
        #expect(r.status == 0, "\(r.stderr)")
        // The trained weights differ from the hash ones (a run that trained nothing would pass otherwise).
        let hashOut = tmp.appending(path: "hash.safetensors").path
        #expect(try runConvLens(["run", first, "--input", inp, "--output", hashOut]).status == 0)
        let a = try SafeTensors.read(out).tensor("logits").values, b = try SafeTensors.read(hashOut).tensor("logits").values
        #expect(zip(a, b).contains { abs($0 - $1) > 1e-4 }, "training left the logits unchanged")
        let results = try Self.check([["model": "convnet (trained)", "onnx": again, "input": inp, "output": out]], in: tmp)
        for res in results {
            #expect(res["error"] == nil, "\(res["error"] ?? "")")
            #expect((res["rel"] as? Double ?? 1) < 1e-4, "ONNX Runtime differs by \(res["rel"] ?? "?")")
        }
    }

    @Test func netronAttachmentIsNetronsFormat() throws {
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let onnx = tmp.appending(path: "r.onnx").path, json = tmp.appending(path: "r.json").path
        let e = try runConvLens(["export", "resnet18", "--format", "onnx", "--init", "hash", "--output", onnx, "--netron", json])
        #expect(e.status == 0, "\(e.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(obj["signature"] as? String == "netron:attachment")
        let metrics = obj["metrics"] as? [[String: Any]] ?? []
        func metric(_ target: String, _ name: String) -> String? {
            metrics.first { $0["kind"] as? String == "node" && $0["target"] as? String == target && $0["name"] as? String == name }.map { "\($0["value"]!)" }
        }
        // The oracle: the analysis of the same model (resnet18's conv1 at 224: 118,013,952 MACs, 7×7 field).
        let rows = try Self.moduleRows(["resnet18"])
        let conv1 = try #require(rows.first { $0.hasPrefix("conv1 ") })
        #expect(conv1.hasSuffix(" \(metric("conv1", "MACs") ?? "?")"), "\(conv1) vs \(metric("conv1", "MACs") ?? "nil")")
        #expect(metric("conv1", "params") == "9408")
        #expect(metric("conv1", "output shape") == "[1, 64, 112, 112]")
        #expect(metric("conv1", "receptive field")?.hasPrefix("7×7 px") == true, "\(metric("conv1", "receptive field") ?? "nil")")
        #expect(metric("layer4.1.bn2", "receptive field") != nil)
        // Every target is a node of the ONNX file (checked by name through the import's node list).
        let targets = Set(metrics.compactMap { $0["kind"] as? String == "node" ? $0["target"] as? String : nil })
        #expect(targets.count > 60)
    }

    @Test func badOutputsAndInputsAreOneLineErrors() throws {
        let tmp = try EnginePaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let out = tmp.appending(path: "m.onnx").path
        #expect(try runConvLens(["export", "lenet5", "--format", "onnx", "--init", "hash", "--output", out]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        func refused(_ args: [String], _ needle: String) throws {
            let r = try runConvLens(args)
            #expect(r.status == 1, "\(args): exit \(r.status)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(needle), "\(args): \(r.stderr)")
        }
        try refused(["export", "lenet5", "--format", "onnx", "--init", "hash", "--output", out], "--force")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == before, "a refused export changed the file")
        #expect(try runConvLens(["export", "lenet5", "--format", "onnx", "--init", "default", "--output", out, "--force"]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) != before, "--force did not replace the file")
        try refused(["export", "lenet5", "--format", "onnx", "--init", "hash", "--output", tmp.appending(path: "no/such/dir/m.onnx").path], "cannot write")
        try refused(["export", "lenet5", "--format", "onnx", "--init", "hash", "--input", "1x1x32", "--output", tmp.appending(path: "a.onnx").path], "--input")
        try refused(["export", "lenet5", "--format", "onnx", "--init", "hash", "--input", "1x1x2x2", "--output", tmp.appending(path: "b.onnx").path], "lenet5")
        try refused(["export", "lenet5", "--format", "onnx", "--output", tmp.appending(path: "c.onnx").path], "--weights")
        try refused(["export", "lenet5", "--format", "onnx", "--weights", tmp.appending(path: "missing.safetensors").path,
                     "--output", tmp.appending(path: "d.onnx").path], "missing.safetensors")
        for name in ["a", "b", "c", "d"] {
            #expect(!FileManager.default.fileExists(atPath: tmp.appending(path: "\(name).onnx").path), "a refused export left \(name).onnx")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }
}
