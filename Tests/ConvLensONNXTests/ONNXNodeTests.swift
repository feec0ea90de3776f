import ConvLensEngine
import ConvLensGraph
import ConvLensONNX
import Foundation
import Testing
import TestSupport

/// The ONNX project's own backend node tests (Debian's libonnx-testdata, ONNX 1.12), every case of
/// every operator the importer maps, run through the importer and the engine with ONNX's
/// tolerances (rtol 1e-3, atol 1e-7). A case passes, is skipped with the reason the importer or
/// engine gives (an input rank, data type or attribute ConvLens does not support), or fails (a
/// wrong number: a bug). `Tests/Fixtures/onnx-node-tests.txt` lists every case's outcome; the test
/// fails when any case fails or an outcome changes (`CONVLENS_WRITE_NODE_TESTS=1` rewrites the list).
struct ONNXNodeTests {
    static let root = "/usr/share/libonnx-testdata/data/node"
    static let golden = Paths.fixture("onnx-node-tests.txt")

    /// Test-name prefixes (after `test_`) of the operators in scope.
    static let scope: [(prefix: String, op: String)] = [
        ("conv", "Conv"), ("batchnorm", "BatchNormalization"), ("relu", "Relu"), ("clip", "Clip"), ("sigmoid", "Sigmoid"),
        ("hardsigmoid", "HardSigmoid"), ("hardswish", "HardSwish"), ("tanh", "Tanh"), ("leakyrelu", "LeakyRelu"), ("gelu", "Gelu"),
        ("softmax", "Softmax"), ("mul", "Mul"), ("add", "Add"), ("div", "Div"), ("sub", "Sub"), ("maxpool", "MaxPool"),
        ("averagepool", "AveragePool"), ("globalaveragepool", "GlobalAveragePool"), ("reduce_mean", "ReduceMean"),
        ("flatten", "Flatten"), ("reshape", "Reshape"), ("transpose", "Transpose"), ("gemm", "Gemm"), ("matmul", "MatMul"),
        ("concat", "Concat"), ("split", "Split"), ("slice", "Slice"), ("constant", "Constant"), ("identity", "Identity"),
        ("dropout", "Dropout"), ("layer_normalization", "LayerNormalization"), ("shape", "Shape"), ("gather", "Gather"),
        ("unsqueeze", "Unsqueeze"), ("erf", "Erf"),
    ]

    enum Outcome: CustomStringConvertible {
        case pass, skip(String), fail(String)
        var description: String {
            switch self {
            case .pass: "pass"
            case .skip(let r): "skip: \(r)"
            case .fail(let r): "FAIL: \(r)"
            }
        }
    }

    static func cases() throws -> [(name: String, op: String)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        var out: [(String, String)] = []
        for name in names where name.hasPrefix("test_") {
            let rest = name.dropFirst(5)
            guard let entry = scope.sorted(by: { $0.prefix.count > $1.prefix.count })
                .first(where: { rest == $0.prefix || rest.hasPrefix($0.prefix + "_") }) else { continue }
            // `test_gather_elements_0` is GatherElements: keep a case only when it runs the operator
            // (or is its `_expanded` decomposition).
            let model = try ONNXFile.read("\(root)/\(name)/model.onnx")
            guard model.graph.node.contains(where: { $0.opType == entry.op }) || name.hasSuffix("_expanded") else { continue }
            out.append((name, entry.op))
        }
        return out
    }

    static func tensor(_ path: String) throws -> TensorProto {
        try TensorProto(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), file: path)
    }

    static func run(_ name: String) throws -> Outcome {
        let dir = "\(root)/\(name)"
        var model = try ONNXFile.read("\(dir)/model.onnx")
        let data = "\(dir)/test_data_set_0"
        let files = try FileManager.default.contentsOfDirectory(atPath: data)
        let nIn = files.filter { $0.hasPrefix("input_") }.count, nOut = files.filter { $0.hasPrefix("output_") }.count
        // ConvLens models have one output: the first is compared, and the graph's other outputs
        // (LayerNormalization's mean and inverse std, a Dropout mask) are dropped — their node then
        // still names them, which the importer rejects where it matters. Split's pieces are all outputs.
        guard nOut == 1 || (nOut > 1 && !model.graph.node.contains { $0.opType == "Split" }) else { return .skip("\(nOut) outputs (ConvLens models have one)") }
        model.graph.output = Array(model.graph.output.prefix(1))
        let initializers = Set(model.graph.initializer.map(\.name))
        let inputs = model.graph.input.filter { !initializers.contains($0.name) }
        guard nIn == inputs.count, nIn >= 1 else { return .skip("\(nIn) input tensors for \(inputs.count) graph inputs") }
        // The first input is the computed tensor; later ones are weights, so they become initializers.
        var first = try tensor("\(data)/input_0.pb")
        guard first.dataType == ONNXDataType.float.rawValue else { return .skip("input of data type \(ONNXDataType.name(first.dataType)) (ConvLens computes float32)") }
        for k in 1..<max(nIn, 1) {
            var t = try tensor("\(data)/input_\(k).pb")
            t.name = inputs[k].name
            model.graph.initializer.append(t)
        }
        model.graph.input = [inputs[0]]
        first.name = inputs[0].name
        let x = try ONNXFile.values(first, file: name)
        let expected = try ONNXFile.values(try tensor("\(data)/output_0.pb"), file: name)
        let imported: ImportedModel
        do { imported = try ONNXImport.importModel(model, file: name, input: x.dims) } catch { return .skip(error.message) }
        let graph: ModelGraph
        do { graph = try GraphBuilder.build(try ZooParser.parse(imported.zooText, file: name), overrides: [], input: x.dims) } catch { return .skip(error.description) }
        var weights: [String: Tensor] = [:]
        for t in imported.tensors { weights[t.name] = Tensor(shape: t.dims, values: t.int64s.map { $0.map(Float.init) } ?? t.floats) }
        let engine: Engine
        do { engine = try Engine(graph: graph, weights: weights) } catch { return .fail("engine: \(error.message)") }
        let y = try engine.forward(Tensor(shape: x.dims, values: x.floats), training: false)
        guard y.shape == expected.dims else { return .fail("output shape \(y.shape), ONNX's \(expected.dims)") }
        let want = expected.floats
        var worst = 0.0
        for (a, b) in zip(y.values, want) {
            let excess = Double(abs(a - b)) - (1e-7 + 1e-3 * Double(abs(b)))
            if !(excess <= 0) { worst = max(worst, excess.isNaN ? .infinity : Double(abs(a - b))) }
        }
        return worst == 0 ? .pass : .fail("max |error| \(worst) beyond rtol 1e-3, atol 1e-7")
    }

    @Test func everyCaseInScopeRuns() throws {
        #expect(FileManager.default.fileExists(atPath: Self.root), "libonnx-testdata is not installed (.ci/install-deps installs it)")
        let cases = try Self.cases()
        #expect(cases.count > 150, "\(cases.count) cases in scope")
        var lines: [String] = []
        var failures: [String] = []
        for (name, op) in cases {
            let outcome: Outcome
            do { outcome = try Self.run(name) } catch let e as ONNXError { outcome = .skip("test data: \(e.message)") }
            lines.append("\(op) \(name): \(outcome)")
            if case .fail = outcome { failures.append("\(name): \(outcome)") }
        }
        let text = lines.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["CONVLENS_WRITE_NODE_TESTS"] != nil {
            try text.write(to: Self.golden, atomically: true, encoding: .utf8)
        }
        #expect(failures.isEmpty, "wrong numbers:\n\(failures.joined(separator: "\n"))")
        let recorded = try String(contentsOf: Self.golden, encoding: .utf8)
        #expect(recorded == text, "outcomes changed; rerun with CONVLENS_WRITE_NODE_TESTS=1 and update README's counts")
    }
}
