import Foundation

/// An ONNX file turned into a zoo file (text, so `convlens import` writes exactly what every other
/// command reads) and its weights under the recovered state_dict names.
///
/// How it works: the nodes are walked in topological order; each operator's handler
/// (`ONNXImport.handlers`, one entry per operator) either folds it statically (Constant, Shape,
/// Gather, Unsqueeze, Concat of shapes, Cast, Identity, Dropout: every shape is known) or maps it
/// onto one ConvLens layer kind, possibly through a pending pattern (the Erf decomposition of GELU,
/// the Reshape/Transpose/Reshape channel shuffle, MatMul + Add = Linear). The mapped calls are then
/// placed in the module tree their names recover (`ONNXImport+Tree.swift`) and written as zoo text.
public struct ImportedModel: Sendable {
    /// The zoo file's text.
    public var zooText: String
    /// Weights and buffers under state_dict names, in module order.
    public var tensors: [ImportedTensor]
    /// What the reader should know (folded batch norms, names made up from ONNX nodes, …).
    public var notes: [String]
    /// The graph's input and output names (ONNX's).
    public var inputName: String
    public var outputNames: [String]
    /// Where module names came from.
    public var nameSource: String
}

public struct ImportedTensor: Sendable {
    public var name: String
    public var dims: [Int]
    public var floats: [Float]
    /// int64 buffers (`num_batches_tracked`) carry their values here and leave `floats` empty.
    public var int64s: [Int64]? = nil
}

public enum ONNXImport {
    /// ConvLens's own node metadata (`convlens export --format onnx`): the zoo constructor of the
    /// module a node computes (`ReLU(inplace=True)`), for what ONNX's attributes do not say —
    /// `inplace`, torch's momentum, a kernel size written as a tuple, eval-mode identities.
    public static let moduleKey = "pkg.convlens.module"
    /// ConvLens's model metadata: each container's children in registration order where it differs
    /// from the call order, or includes children never called (`ONNXImport+Registration.swift`).
    public static let registrationKey = "pkg.convlens.registration"

    /// Imports `path`. `input` fixes the input shape of a file whose input has dynamic dimensions.
    public static func importFile(_ path: String, input: [Int]? = nil) throws(ONNXError) -> ImportedModel {
        let model = try ONNXFile.read(path)
        return try importModel(model, file: path, input: input)
    }

    public static func importModel(_ model: ModelProto, file: String, input: [Int]? = nil) throws(ONNXError) -> ImportedModel {
        var b = ImportBuilder(model: model, file: file)
        try b.run(input: input)
        return try b.finish()
    }
}

/// A runtime tensor: -1 is the graph input, k ≥ 0 the output of mapped call k.
typealias Ref = Int

/// What an ONNX value is while the graph is walked.
enum ImportValue {
    /// Known statically (initializer, Constant, folded shape arithmetic).
    case constant(ONNXTensorData)
    /// A tensor computed at run time.
    case tensor(Ref, [Int])
    /// The first steps of a pattern that is one ConvLens call once complete.
    case pending(Pending, [Int])
}

enum Pending {
    /// Reshape of `source` (the channel shuffle's first step, or a flatten to come).
    case view(source: Ref, sourceShape: [Int], node: NodeProto)
    /// Transpose of a 5-D view [N, g, C/g, H, W] → [N, C/g, g, H, W].
    case shuffled(source: Ref, sourceShape: [Int], groups: Int)
    /// MatMul by a constant [in, out] (a Linear when a bias Add follows, or none does).
    case matmul(source: Ref, weight: ONNXTensorData, node: NodeProto)
    /// Steps of GELU's Erf form: 1 x/√2, 2 erf(x/√2), 3 1 + erf(x/√2), 4 x·(1 + erf(x/√2)), 5 x·½,
    /// 6 ½·(1 + erf(x/√2)).
    case gelu(source: Ref, step: Int, node: NodeProto)
    /// The first half of an adaptive average pool with uneven bins, A_H · X ([N, C, OH, W]).
    case adaptiveRows(source: Ref, sourceShape: [Int], node: NodeProto)
    /// Transpose of N×C×H×W to N×H×W×C: LayerNorm2d's first step, or a Permute.
    case channelsLast(source: Ref, sourceShape: [Int], node: NodeProto)
    /// A LayerNorm over C of such a transpose: LayerNorm2d when the transpose back follows in the
    /// same module, else a Permute and a LayerNorm.
    case channelsLastNorm(source: Ref, sourceShape: [Int], permute: NodeProto, norm: MappedCall)
}

/// One mapped call: a ConvLens layer kind with its inputs, output shape and parameters.
struct MappedCall {
    /// The zoo text of the module form (`Conv2d(…)`), nil when the kind is functional only.
    var module: String?
    /// The zoo text of the functional form (`F.relu`), nil when the kind is a module only.
    var functional: String?
    /// A readable base name for a functional line (`relu`, `add`).
    var baseName: String
    var inputs: [Ref]
    var shape: [Int]
    var node: NodeProto
    /// Parameters and buffers: (state_dict suffix, values), in torch's order.
    var params: [(String, ONNXTensorData)] = []
    /// The module path recovered from parameter names (`features.0.0` from `features.0.0.weight`).
    var fixedPath: String? = nil
    /// A tensor the enclosing module owns itself (ConvNeXt's `layer_scale`): a `Parameter` line
    /// named `baseName` whose values are `params[0]`.
    var ownParameter = false
    /// The output count a classifier's last layer takes from `num_classes`, and the text in
    /// `module` that holds it.
    var classesArgument: (value: Int, text: String)? = nil
}

struct ImportBuilder {
    let model: ModelProto
    let file: String
    var values: [String: ImportValue] = [:]
    var calls: [MappedCall] = []
    var notes: [String] = []
    var inputName = ""
    var inputShape: [Int] = []
    /// Calls that are convolutions with a batch norm folded in at export.
    var foldedConvs: [Int] = []
    /// Every value some node or the graph's output reads (a Split output nobody reads is not mapped).
    var used = Set<String>()
    /// How many node inputs read each value (a pattern may absorb a value only its pattern reads).
    var readers: [String: Int] = [:]

    init(model: ModelProto, file: String) {
        self.model = model
        self.file = file
    }

    func fail(_ node: NodeProto, _ message: String) -> ONNXError {
        let name = node.name.isEmpty ? (node.output.first ?? "?") : node.name
        return ONNXError(file: file, message: "node '\(name)' (\(node.opType)): \(message)")
    }

    mutating func run(input: [Int]?) throws(ONNXError) {
        let g = model.graph
        for t in g.initializer {
            values[t.name] = .constant(try ONNXFile.values(t, file: file))
        }
        let inputs = g.input.filter { values[$0.name] == nil }
        guard inputs.count == 1, let inp = inputs.first else {
            throw ONNXError(file: file, message: "the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); ConvLens imports models with one image input")
        }
        inputName = inp.name
        guard let dims = inp.type?.shape else {
            throw ONNXError(file: file, message: "input '\(inp.name)' has no shape (give --input NxCxHxW)")
        }
        // A file with a static input shape is imported at that shape (its folded Reshape targets
        // hold its batch size); the zoo file it becomes runs at any input. `input` fixes the
        // dynamic dimensions of a file that has them.
        let dynamic = dims.contains { ($0.value ?? 0) <= 0 || $0.param != nil }
        if dynamic {
            guard let input else {
                throw ONNXError(file: file, message: "input '\(inp.name)' has a dynamic dimension \(describe(dims)) (give --input NxCxHxW)")
            }
            guard input.count == dims.count else {
                throw ONNXError(file: file, message: "--input has \(input.count) sizes but input '\(inp.name)' has rank \(dims.count) \(describe(dims))")
            }
            for (d, v) in zip(dims, input) where d.param == nil && (d.value ?? 0) > 0 && d.value! != Int64(v) {
                throw ONNXError(file: file, message: "--input \(input.map(String.init).joined(separator: "x")) does not fit input '\(inp.name)' \(describe(dims))")
            }
            inputShape = input
        } else {
            inputShape = dims.map { Int($0.value!) }
        }
        guard inputShape.count == 4 else {
            throw ONNXError(file: file, message: "input '\(inp.name)' has rank \(inputShape.count); ConvLens imports image models (N×C×H×W)")
        }
        values[inp.name] = .tensor(-1, inputShape)
        for n in g.node { used.formUnion(n.input); for i in n.input { readers[i, default: 0] += 1 } }
        for o in g.output { readers[o.name, default: 0] += 1 }
        used.formUnion(g.output.map(\.name))

        for node in try topologicalOrder() {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw fail(node, "operator domain '\(node.domain)' is not supported (only the default ONNX domain)")
            }
            guard let handler = ONNXImport.handlers[node.opType] else {
                throw fail(node, "unsupported operator (ConvLens maps \(ONNXImport.handlers.keys.sorted().joined(separator: ", ")))")
            }
            try handler(&self, node)
        }
    }

    func describe(_ dims: [TensorShapeDim]) -> String {
        "[" + dims.map { d in d.param.map { "'\($0)'" } ?? d.value.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    /// The nodes in an order where every input is defined first (the file's order where it is
    /// valid); a cycle or an input nobody defines is an error naming the node.
    func topologicalOrder() throws(ONNXError) -> [NodeProto] {
        let nodes = model.graph.node
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.output where !o.isEmpty { producer[o] = i }
        }
        var indegree = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() {
            for inp in n.input where !inp.isEmpty {
                if let p = producer[inp] {
                    if p == i { throw fail(n, "its input '\(inp)' is its own output (a cycle)") }
                    indegree[i] += 1
                    consumers[p].append(i)
                } else if values[inp] == nil {
                    throw fail(n, "input '\(inp)' is not an initializer, a graph input or any node's output (a missing initializer?)")
                }
            }
        }
        var ready = Set((0..<nodes.count).filter { indegree[$0] == 0 })
        var order: [NodeProto] = []
        while let i = ready.min() {
            ready.remove(i)
            order.append(nodes[i])
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.insert(c) }
            }
        }
        if order.count < nodes.count, let stuck = (0..<nodes.count).first(where: { indegree[$0] > 0 }) {
            throw fail(nodes[stuck], "is part of a cycle in the graph")
        }
        return order
    }

    // MARK: values

    func value(_ node: NodeProto, _ i: Int) throws(ONNXError) -> ImportValue {
        guard i < node.input.count, !node.input[i].isEmpty else { throw fail(node, "input \(i) is missing") }
        guard let v = values[node.input[i]] else { throw fail(node, "input '\(node.input[i])' is not defined") }
        return v
    }

    func hasInput(_ node: NodeProto, _ i: Int) -> Bool { i < node.input.count && !node.input[i].isEmpty }

    func constant(_ node: NodeProto, _ i: Int, what: String) throws(ONNXError) -> ONNXTensorData {
        guard case .constant(let c) = try value(node, i) else {
            throw fail(node, "\(what) (input \(i)) must be a constant for ConvLens (it is computed at run time)")
        }
        return c
    }

    /// A runtime input as a tensor: pending patterns that are complete on their own are mapped here.
    mutating func tensor(_ node: NodeProto, _ i: Int) throws(ONNXError) -> (Ref, [Int]) {
        switch try value(node, i) {
        case .tensor(let r, let s): return (r, s)
        case .constant: throw fail(node, "input \(i) is a constant where ConvLens needs a computed tensor")
        case .pending(let p, let shape):
            let r = try materialize(p, shape: shape, consumer: node)
            values[node.input[i]] = .tensor(r, shape)
            return (r, shape)
        }
    }

    mutating func materialize(_ p: Pending, shape: [Int], consumer: NodeProto) throws(ONNXError) -> Ref {
        switch p {
        case .matmul(let source, let weight, let node):
            return try emitLinear(node, source: source, weight: weight, transposed: false, bias: nil, shape: shape)
        case .view(let source, let sourceShape, let node):
            if sourceShape.count == 4, shape.count == 2, shape[0] == sourceShape[0] {
                return emit(MappedCall(module: "Flatten(start_dim=1, end_dim=-1)", functional: "torch.flatten(1)", baseName: "flatten",
                                       inputs: [source], shape: shape, node: node))
            }
            throw fail(consumer, "its input is a Reshape from \(sourceShape) to \(shape), which is no ConvLens layer (flatten and the channel shuffle are)")
        case .shuffled:
            throw fail(consumer, "its input is a Transpose of a 5-D view that is not followed by the channel shuffle's Reshape")
        case .gelu(_, let step, let node):
            throw fail(consumer, "its input is step \(step) of an Erf-GELU decomposition started at '\(node.name)' that is not completed")
        case .adaptiveRows(_, _, let node):
            throw fail(consumer, "its input is the row half (A_H · X) of an adaptive average pool started at '\(node.name)' whose column half is missing")
        case .channelsLast(let source, _, let node):
            return emit(MappedCall(module: "Permute([0, 2, 3, 1])", functional: "torch.permute([0, 2, 3, 1])", baseName: "permute",
                                   inputs: [source], shape: shape, node: node))
        case .channelsLastNorm(let source, let sourceShape, let permute, var norm):
            norm.inputs = [try materialize(.channelsLast(source: source, sourceShape: sourceShape, node: permute), shape: shape, consumer: consumer)]
            return emit(norm)
        }
    }

    /// The module a node sits in, as the file says (a legacy name's path, dynamo's scope
    /// metadata), or nil when it does not say.
    func scope(of node: NodeProto) -> String? {
        if let s = node.meta("pkg.torch.onnx.name_scopes") { return ModuleTree.pythonList(s).dropLast().joined(separator: "/") }
        if node.name.hasPrefix("/"), let slash = node.name.lastIndex(of: "/") { return String(node.name[..<slash]) }
        return nil
    }

    mutating func emit(_ call: MappedCall) -> Ref {
        calls.append(call)
        return calls.count - 1
    }

    mutating func define(_ node: NodeProto, _ v: ImportValue, output: Int = 0) throws(ONNXError) {
        guard output < node.output.count else { throw fail(node, "has no output \(output)") }
        values[node.output[output]] = v
    }

    mutating func emitLinear(_ node: NodeProto, source: Ref, weight: ONNXTensorData, transposed: Bool, bias: ONNXTensorData?, shape: [Int]) throws(ONNXError) -> Ref {
        guard weight.dims.count == 2 else { throw fail(node, "weight has shape \(weight.dims), not [out, in]") }
        let (outF, inF) = transposed ? (weight.dims[0], weight.dims[1]) : (weight.dims[1], weight.dims[0])
        var w = weight
        if !transposed {
            // MatMul and Gemm(transB=0) store [in, out]; torch's Linear.weight is [out, in].
            let src = weight.floats
            var t = [Float](repeating: 0, count: src.count)
            for i in 0..<inF { for o in 0..<outF { t[o * inF + i] = src[i * outF + o] } }
            w = ONNXTensorData(dims: [outF, inF], values: .float(t))
        }
        if let bias, bias.count != outF { throw fail(node, "bias has \(bias.count) values for \(outF) outputs") }
        var call = MappedCall(module: "Linear(in_features=\(inF), out_features=\(outF), bias=\(bias == nil ? "False" : "True"))",
                              functional: nil, baseName: "linear", inputs: [source], shape: shape, node: node)
        call.params = [("weight", w)] + (bias.map { [("bias", $0.reshaped([outF]))] } ?? [])
        call.fixedPath = modulePath(fromParameter: node, index: 1)
        call.classesArgument = (outF, "out_features=\(outF)")
        return emit(call)
    }

    /// `features.0.0` from an initializer named `features.0.0.weight` (or dynamo's
    /// `features.0.0.weight_bias`), when the name is a torch module path.
    func modulePath(fromParameter node: NodeProto, index: Int) -> String? {
        guard index < node.input.count else { return nil }
        let name = node.input[index]
        for suffix in [".weight", ".bias", ".weight_bias"] where name.hasSuffix(suffix) {
            let path = String(name.dropLast(suffix.count))
            let parts = path.split(separator: ".", omittingEmptySubsequences: false)
            // torch module names are any strings without dots (RegNet's `block1-0`); a name with
            // separators of other tools (`/`, `:`, spaces) is not a module path.
            guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && !$0.contains { "/: \t".contains($0) } }) else { return nil }
            return path
        }
        return nil
    }

    // MARK: result

    mutating func finish() throws(ONNXError) -> ImportedModel {
        let outputs = model.graph.output.map(\.name)
        guard outputs.count == 1, let out = outputs.first else {
            throw ONNXError(file: file, message: "the graph has \(outputs.count) outputs (\(outputs.joined(separator: ", "))); ConvLens imports models with one output")
        }
        let outRef: Ref
        var outShape: [Int] = []
        switch values[out] {
        case .tensor(let r, let s)?: outRef = r; outShape = s
        case .pending(let p, let s)?:
            outRef = try materialize(p, shape: s, consumer: NodeProto(opType: "output", name: out))
            outShape = s
        case .constant?: throw ONNXError(file: file, message: "output '\(out)' is a constant")
        case nil: throw ONNXError(file: file, message: "output '\(out)' is not computed by any node")
        }
        guard outRef >= 0 else { throw ONNXError(file: file, message: "output '\(out)' is the input itself") }
        // The classifier's last layer takes `num_classes` (so `--arg num_classes=10` and
        // `convlens train` on another data set resize it, as for the registry's models).
        let classesCall = calls.indices.last { calls[$0].classesArgument != nil }
            .flatMap { outShape.count == 2 && calls[$0].classesArgument!.value == outShape[1] ? $0 : nil }
        var tree = ModuleTree(builder: self)
        let (blocks, body, rootClass) = try tree.render(output: outRef, classesCall: classesCall)
        var notes = tree.notes
        if !foldedConvs.isEmpty {
            let paths = foldedConvs.prefix(3).map { i -> String in if case .module(let p) = tree.placements[i] { p } else { calls[i].node.name } }
            notes.append("\(foldedConvs.count) convolution\(foldedConvs.count == 1 ? "" : "s") had a batch norm folded into them by the exporter (no BatchNormalization node is left: Conv2d with the folded weight and bias, not Conv2d + BatchNorm2d): \(paths.joined(separator: ", "))\(foldedConvs.count > 3 ? ", …" : "")")
        }
        notes.append(contentsOf: self.notes)
        let fileName = (file as NSString).lastPathComponent
        let stem = String(fileName.split(separator: ".").first ?? "model")
        let name = ModuleTree.sanitize(stem)
        let className = rootClass.flatMap { ModuleTree.isIdentifier($0) ? $0 : nil } ?? name
        let producer = model.producerName.isEmpty ? "unknown producer" : model.producerName + " " + model.producerVersion
        var text = "# Imported by ConvLens from \(fileName) (ONNX opset \(model.opset), \(producer)).\n"
        text += "# Module names from the file's \(tree.nameSource).\n"
        text += "model \(name) class \(className)\n"
        text += "input \(inputShape.map(String.init).joined(separator: " "))\n"
        if let c = classesCall { text += "param num_classes = \(calls[c].classesArgument!.value)\n" }
        text += "\nmeta source = \(Self.quoted("\(fileName) (ONNX opset \(model.opset), \(producer))"))\n"
        text += "meta about = \(Self.quoted("Imported from \(fileName)."))\n"
        for (k, note) in notes.enumerated() { text += "meta import_note_\(k + 1) = \(Self.quoted(note))\n" }
        if !blocks.isEmpty { text += "\n" + blocks + "\n" }
        text += "\n" + body + "\n"
        return ImportedModel(zooText: text, tensors: tree.tensors, notes: notes, inputName: inputName, outputNames: outputs,
                             nameSource: tree.nameSource)
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "'") + "\""
    }
}
