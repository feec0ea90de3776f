import ConvLensAnalysis
import ConvLensEngine
import ConvLensGraph
import ConvLensONNX
import Foundation

/// `convlens export MODEL --format onnx --output OUT.onnx`: the eval-mode graph as an ONNX model
/// (opset 18, IR version 8). Each graph call is written as its layer kind spells it
/// (`LayerSpec.onnx`); node names are the module paths (a functional call's readable name),
/// initializers the state_dict under torch's keys, `value_info` holds every intermediate shape, and
/// each node carries the dynamo exporter's `pkg.torch.onnx.name_scopes` / `class_hierarchy`
/// metadata (so the import recovers the module tree) and ConvLens's `pkg.convlens.module` (the
/// zoo constructor, for what ONNX's attributes cannot say: `inplace`, torch's momentum, dropout).
public enum ONNXExport {
    /// The ONNX operator set written (ai.onnx) and the IR version that introduced it (ONNX 1.13).
    public static let opset: Int64 = 18
    public static let irVersion: Int64 = 8

    public struct Result: Sendable {
        public var path: String
        public var nodes: Int
        public var initializers: Int
        public var netron: String?
    }

    /// Builds the ONNX model of `model` and writes it (and the Netron attachment with `netron`).
    public static func write(model: String, arguments: [String], input: [Int]?, weights: WeightSource?, output: String,
                             netron: String?, force: Bool) throws -> Result {
        for path in [output] + (netron.map { [$0] } ?? []) where !force && FileManager.default.fileExists(atPath: path) {
            throw DataError(path, "already exists; pass --force to replace it (nothing was written)")
        }
        if let netron, URL(fileURLWithPath: netron).standardizedFileURL == URL(fileURLWithPath: output).standardizedFileURL {
            throw DataError(netron, "--netron and --output name the same file")
        }
        let graph = try Registry.graph(model, arguments: arguments, input: input)
        let source: WeightSource
        if let weights { source = weights } else if Registry.isONNX(model) { source = .modelFile } else {
            throw DataError(model, "give --weights FILE or --init hash|default (an ONNX file holds its weights; a zoo model has none)")
        }
        let state = try stateDict(graph, source)
        let built = try build(graph, state: state, modelName: model)
        var netronText: String? = nil
        if netron != nil { netronText = try NetronAttachment.json(graph, nodeNames: built.nodeNames) }
        do {
            try AtomicFile.write(built.model.serialized, to: output)
            if let netron, let netronText { try AtomicFile.write(Array(netronText.utf8), to: netron) }
        } catch {
            throw DataError(error.path, "cannot write (\(error.reason))")
        }
        return Result(path: output, nodes: built.model.graph.node.count, initializers: built.model.graph.initializer.count, netron: netron)
    }

    /// The state_dict the export stores, checked against the graph's keys and shapes.
    static func stateDict(_ graph: ModelGraph, _ source: WeightSource) throws -> [String: Tensor] {
        switch source {
        case .hash: return HashInit.stateDict(graph)
        case .defaultInit(let seed): return try DefaultInit.stateDict(graph, seed: seed)
        case .file, .modelFile: return try Engine(graph: graph, weights: source).state
        }
    }

    /// The ONNX model and, per graph node (eval mode), the name of its ONNX node(s).
    public struct Built: Sendable {
        public var model: ModelProto
        /// Graph node index → the ONNX node names written for it (empty for a parameter read).
        public var nodeNames: [Int: [String]]
    }

    public static func build(_ graph: ModelGraph, state: [String: Tensor], modelName: String) throws -> Built {
        var g = GraphProto()
        g.name = graph.name
        var tensorName: [Int: String] = [ModelGraph.inputID: "input"]
        var usedNames = Set(["input"])
        var nodeNames: [Int: [String]] = [:]
        func unique(_ base: String) -> String {
            var n = base, k = 1
            while usedNames.contains(n) { k += 1; n = "\(base)#\(k)" }
            usedNames.insert(n)
            return n
        }
        // num_batches_tracked is read by no node (ONNX Runtime warns about unused initializers); the
        // import gives it back as 0, as the reading half does for every BatchNormalization.
        for e in graph.stateDict() where e.localName != "num_batches_tracked" {
            usedNames.insert(e.key)
            guard let t = state[e.key] else { throw DataError(modelName, "the weights have no tensor '\(e.key)'") }
            g.initializer.append(tensor(e.key, dims: e.shape, floats: t.values))
        }
        let stateShapes = Dictionary(graph.stateDict().map { ($0.key, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let eval = graph.nodes(training: false)
        let outputNode = graph.output
        for node in eval {
            let repr = node.layer.className + "(" + node.spec.extraRepr + ")"
            let call = ONNXCall(inputShapes: node.inputShapes, outputShape: node.outputShape, isModule: node.kind == .module, repr: repr)
            guard case .nodes(let steps, let constants, let result, let module) = node.spec.onnx(call) else {
                if case .unsupported(let why) = node.spec.onnx(call) {
                    throw DataError(modelName, "layer '\(node.name)' (\(node.typeName)): cannot be written in ONNX: \(why)")
                }
                continue
            }
            let base = unique(node.name)
            let owner = graph.modules[node.module ?? node.scope.last ?? 0]
            var constantNames: [String: String] = [:]
            for c in constants {
                let n = unique(base + "/" + c.name)
                constantNames[c.name] = n
                switch c.values {
                case .float(let v): g.initializer.append(tensor(n, dims: c.dims, floats: v))
                case .int64(let v): g.initializer.append(tensor(n, dims: c.dims, int64s: v))
                }
            }
            // Output names: the call's result is `base` (or `logits` for the model's output); other
            // step outputs `base/OpType`, numbered when repeated.
            let resultRef = result ?? .step(steps.count - 1, output: 0)
            // Node names: the call's name, or `base/OpType` (numbered when an op repeats) for a
            // spelling of several nodes; `base` is unique, so these are too.
            var stepNames: [String] = [], seen: [String: Int] = [:]
            for s in steps {
                let k = seen[s.opType, default: 0]
                seen[s.opType] = k + 1
                stepNames.append(steps.count == 1 ? base : base + "/" + s.opType + (k == 0 ? "" : "_\(k)"))
            }
            var outputs: [[String]] = []
            for (j, s) in steps.enumerated() {
                outputs.append((0..<s.outputs).map { k in
                    if case .step(j, k) = resultRef { return node.index == outputNode ? unique("logits") : base }
                    return unique(stepNames[j] + (s.outputs > 1 ? ":\(k)" : ""))
                })
            }
            func name(_ o: ONNXOperand) throws -> String {
                switch o {
                case .input(let k):
                    guard k < node.inputs.count, let n = tensorName[node.inputs[k]] else {
                        throw DataError(modelName, "layer '\(node.name)': its ONNX spelling reads input \(k), which is not written")
                    }
                    return n
                case .parameter(let local): return owner.key(local)
                case .constant(let c):
                    guard let n = constantNames[c] else { throw DataError(modelName, "layer '\(node.name)': no constant '\(c)' in its ONNX spelling") }
                    return n
                case .step(let j, let k): return outputs[j][k]
                case .absent: return ""
                }
            }
            let moduleText = node.kind == .module ? module : nil
            let metadata = scopeMetadata(graph, node) + (moduleText.map { [StringStringEntry(ONNXImport.moduleKey, $0)] } ?? [])
            var written: [String] = []
            for (j, s) in steps.enumerated() {
                var n = NodeProto(opType: s.opType, name: stepNames[j], input: try s.inputs.map(name), output: outputs[j])
                n.attribute = s.attributes.keys.sorted().map { attribute($0, s.attributes[$0]!) }
                n.metadataProps = metadata
                g.node.append(n)
                written.append(n.name)
            }
            nodeNames[node.index] = written
            tensorName[node.index] = try name(resultRef)
            // value_info: every intermediate tensor's shape (the model output's goes in graph.output):
            // the call's result from the graph, the steps before it by `stepShapes`.
            let shapes = stepShapes(steps, call: call, parameter: { stateShapes[owner.key($0)] }, constants: constants)
            for (j, s) in steps.enumerated() {
                for k in 0..<s.outputs where outputs[j][k] != "logits" {
                    if case .step(j, k) = resultRef {
                        g.valueInfo.append(valueInfo(outputs[j][k], node.outputShape))
                    } else if let shape = shapes[j]?[k] {
                        g.valueInfo.append(valueInfo(outputs[j][k], shape))
                    }
                }
            }
        }
        guard let out = tensorName[outputNode], out == "logits" else {
            throw DataError(modelName, "the model's output is not computed by an ONNX node (it is \(tensorName[outputNode].map { "'\($0)'" } ?? "not written"))")
        }
        g.input = [valueInfo("input", graph.inputShape)]
        g.output = [valueInfo("logits", graph.nodes[outputNode].outputShape)]
        var m = ModelProto()
        m.irVersion = irVersion
        m.opsetImport = [OperatorSetID(domain: "", version: opset)]
        m.producerName = "ConvLens"
        m.producerVersion = producerVersion
        m.graph = g
        let file = graph.source.path.isEmpty ? modelName : graph.source.path
        m.docString = "\(graph.className) '\(graph.name)' exported by ConvLens from \(file) (input \(graph.inputShape.map(String.init).joined(separator: "×")), eval mode, batch norms not folded)"
        if !graph.arguments.isEmpty {
            m.metadataProps.append(StringStringEntry("convlens.arguments", graph.arguments.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")))
        }
        if let r = registration(graph) { m.metadataProps.append(StringStringEntry(ONNXImport.registrationKey, r)) }
        return Built(model: m, nodeNames: nodeNames)
    }

    /// The output shapes of a spelling's steps, for value_info, by the rules of the operators the
    /// kinds' spellings use (nil for a step whose rule is not here; ONNX's checker infers it then).
    static func stepShapes(_ steps: [ONNXStep], call: ONNXCall, parameter: (String) -> [Int]?, constants: [ONNXConstant]) -> [[[Int]]?] {
        var out: [[[Int]]?] = []
        func shape(_ o: ONNXOperand) -> [Int]? {
            switch o {
            case .input(let k): return k < call.inputShapes.count ? call.inputShapes[k] : nil
            case .parameter(let p): return parameter(p)
            case .constant(let c): return constants.first { $0.name == c }?.dims
            case .step(let j, let k): return j < out.count ? out[j]?[k] : nil
            case .absent: return nil
            }
        }
        func constantInts(_ o: ONNXOperand) -> [Int]? {
            guard case .constant(let c) = o, case .int64(let v)? = constants.first(where: { $0.name == c })?.values else { return nil }
            return v.map { Int($0) }
        }
        func broadcast(_ a: [Int], _ b: [Int]) -> [Int] {
            let n = max(a.count, b.count)
            let pa = Array(repeating: 1, count: n - a.count) + a, pb = Array(repeating: 1, count: n - b.count) + b
            return zip(pa, pb).map { max($0, $1) }
        }
        for s in steps {
            let xs = s.inputs.map(shape)
            guard let x = xs.first ?? nil else { out.append(nil); continue }
            switch s.opType {
            case "Sigmoid", "Erf", "Tanh", "Relu", "Identity", "InstanceNormalization", "LayerNormalization", "Softmax":
                out.append([x])
            case "Add", "Mul", "Div", "Sub":
                out.append(xs.count == 2 && xs[1] != nil ? [broadcast(x, xs[1]!)] : nil)
            case "Transpose":
                if case .ints(let perm)? = s.attributes["perm"], perm.count == x.count { out.append([perm.map { x[$0] }]) } else { out.append(nil) }
            case "Reshape":
                guard s.inputs.count == 2, var target = constantInts(s.inputs[1]) else { out.append(nil); continue }
                for i in target.indices where target[i] == 0 && i < x.count { target[i] = x[i] }
                if let i = target.firstIndex(of: -1) {
                    let known = target.filter { $0 != -1 }.reduce(1, *)
                    target[i] = known == 0 ? 0 : x.reduce(1, *) / known
                }
                out.append([target])
            case "MatMul":
                guard xs.count == 2, let w = xs[1], x.count >= 2, w.count >= 2 else { out.append(nil); continue }
                out.append([broadcast(Array(x.dropLast(2)), Array(w.dropLast(2))) + [x[x.count - 2], w[w.count - 1]]])
            case "Split":
                guard case .int(let axis)? = s.attributes["axis"], axis < x.count else { out.append(nil); continue }
                var piece = x
                piece[axis] = x[axis] / max(s.outputs, 1)
                out.append(Array(repeating: piece, count: s.outputs))
            default:
                out.append(nil)
            }
        }
        return out
    }

    /// The version string the files name as their producer's.
    public static let producerVersion = "0.1"

    /// Intermediate shapes for value_info: the call results only (intermediate steps of a spelling
    /// get theirs from ONNX's own shape inference). Kept separate so the rule reads in one place.
    static func valueInfo(_ name: String, _ shape: [Int]) -> ValueInfoProto {
        ValueInfoProto(name: name, type: TensorTypeProto(elemType: ONNXDataType.float.rawValue, shape: shape.map { TensorShapeDim(value: Int64($0)) }))
    }

    /// The dynamo exporter's node metadata: `['', container…, module, op]` and the classes along it.
    static func scopeMetadata(_ graph: ModelGraph, _ node: GraphNode) -> [StringStringEntry] {
        var paths = [""], classes = [graph.className]
        for s in node.scope { paths.append(graph.modules[s].path); classes.append(graph.modules[s].className) }
        if let m = node.module {
            paths.append(graph.modules[m].path); classes.append(graph.modules[m].className)
            paths.append(node.functionName)
        } else {
            paths.append(String(node.name.split(separator: ".").last ?? Substring(node.name)))
        }
        classes.append("aten." + node.functionName)
        func list(_ xs: [String]) -> String { "[" + xs.map { PyTorchSource.string($0) }.joined(separator: ", ") + "]" }
        return [StringStringEntry("pkg.torch.onnx.name_scopes", list(paths)), StringStringEntry("pkg.torch.onnx.class_hierarchy", list(classes))]
    }

    static func tensor(_ name: String, dims: [Int], floats: [Float]) -> TensorProto {
        var t = TensorProto()
        t.name = name; t.dims = dims.map(Int64.init); t.dataType = ONNXDataType.float.rawValue
        var raw = [UInt8](repeating: 0, count: floats.count * 4)
        raw.withUnsafeMutableBytes { dst in floats.withUnsafeBytes { src in dst.copyMemory(from: src) } }   // little-endian float32
        t.rawData = raw
        return t
    }

    static func tensor(_ name: String, dims: [Int], int64s: [Int64]) -> TensorProto {
        var t = TensorProto()
        t.name = name; t.dims = dims.map(Int64.init); t.dataType = ONNXDataType.int64.rawValue
        t.int64Data = int64s
        return t
    }

    static func attribute(_ name: String, _ v: ONNXAttributeValue) -> AttributeProto {
        var a = AttributeProto(name: name)
        switch v {
        case .int(let i): a.type = AttributeProto.Kind.int.rawValue; a.i = Int64(i)
        case .ints(let xs): a.type = AttributeProto.Kind.ints.rawValue; a.ints = xs.map(Int64.init)
        case .float(let f): a.type = AttributeProto.Kind.float.rawValue; a.f = Float(f)
        case .floats(let fs): a.type = AttributeProto.Kind.floats.rawValue; a.floats = fs.map(Float.init)
        case .string(let s): a.type = AttributeProto.Kind.string.rawValue; a.s = Array(s.utf8)
        }
        return a
    }
}
