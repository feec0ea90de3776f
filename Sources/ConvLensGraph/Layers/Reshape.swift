/// torch.nn.Flatten / torch.flatten(x, start_dim).
public struct Flatten: ParameterFree {
    public static let className = "Flatten"
    public static let moduleName: String? = "Flatten"
    public static let functionNames = ["torch.flatten"]
    public static let functionName = "flatten"
    public static let category = LayerCategory.reshape
    public static let signature = Signature([("start_dim", .int(1)), ("end_dim", .int(-1))])
    public var startDim: Int
    public var endDim: Int
    public var layer: Layer { .flatten(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Flatten")
        startDim = try a.int("start_dim"); endDim = try a.int("end_dim")
    }
    public var extraRepr: String { "start_dim=\(startDim), end_dim=\(endDim)" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "flatten")
        let s = startDim < 0 ? startDim + x.count : startDim
        let e = endDim < 0 ? endDim + x.count : endDim
        guard s >= 0, e < x.count, s <= e else { throw ShapeProblem(.shape, "flatten dims (\(startDim), \(endDim)) out of range for \(ShapeCheck.fmt(x))") }
        return Array(x[..<s]) + [try ShapeCheck.product(Array(x[s...e]), "flatten")] + Array(x[(e + 1)...])
    }
    /// A view: no operations under any convention.
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: 0) }
    /// Flattening a feature map makes every following unit see all of it.
    public func spatial(_ c: LayerCall) -> SpatialRule { c.x.count == 4 ? .global : .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { false }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let x = c.x
        return [Formula("flatten", x.count == 4 ? "\(x[1])·\(x[2])·\(x[3]) = \(c.output.last ?? 0) features per example" : FormulaText.shape(c.output))]
    }
}

/// torch.nn.Identity.
public struct Identity: ParameterFree {
    public static let className = "Identity"
    public static let moduleName: String? = "Identity"
    public static let functionNames: [String] = []
    public static let functionName = "identity"
    public static let category = LayerCategory.reshape
    public static let signature = Signature([])
    public var layer: Layer { .identity(self) }
    public init() {}
    public init(_ v: BoundArguments) throws(ShapeProblem) {}
    public var extraRepr: String { "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] { try ShapeCheck.single(inputs, "Identity") }
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { false }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] { [Formula("computes", "identity")] }
}

/// torchvision.ops.misc.Permute (prints `Permute()`) / x.permute(dims).
public struct Permute: ParameterFree {
    public static let className = "Permute"
    public static let moduleName: String? = "Permute"
    public static let functionNames = ["torch.permute"]
    public static let functionName = "permute"
    public static let category = LayerCategory.reshape
    public static let signature = Signature([("dims", nil)])
    public var dims: [Int]
    public var layer: Layer { .permute(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Permute")
        dims = try a.ints("dims")
        guard dims.sorted() == Array(0..<dims.count) else {
            throw ShapeProblem(.badArgument, "Permute dims \(a["dims"]) must be a permutation of 0…\(dims.count - 1)")
        }
    }
    public var extraRepr: String { "" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "Permute")
        guard x.count == dims.count else {
            throw ShapeProblem(.shape, "Permute dims (\(dims.map(String.init).joined(separator: ", "))) need a \(dims.count)-d input, got \(ShapeCheck.fmt(x))")
        }
        return dims.map { x[$0] }
    }
    /// A view (a stride change): no operations under any convention.
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { false }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        [Formula("permute", "dims (\(dims.map(String.init).joined(separator: ", "))): \(FormulaText.shape(c.x)) → \(FormulaText.shape(c.output)), a view (no copy)")]
    }
}

/// One piece of x.chunk(chunks, dim): `torch.chunk(2, dim=1)[0]`.
public struct Chunk: ParameterFree {
    public static let className = "chunk"
    public static let moduleName: String? = nil
    public static let functionNames = ["torch.chunk"]
    public static let functionName = "chunk"
    public static let category = LayerCategory.reshape
    public static let signature = Signature([("chunks", nil), ("dim", .int(0)), ("index", .int(0))])
    public var chunks: Int
    public var dim: Int
    public var index: Int
    public var layer: Layer { .chunk(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "torch.chunk")
        chunks = try a.int("chunks", min: 1); dim = try a.int("dim"); index = try a.int("index", min: 0)
        guard index < chunks else { throw ShapeProblem(.badArgument, "torch.chunk piece [\(index)] does not exist: \(chunks) chunks are numbered 0…\(chunks - 1)") }
    }
    public var extraRepr: String { "chunks=\(chunks), dim=\(dim), index=\(index)" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "torch.chunk")
        let d = dim < 0 ? dim + x.count : dim
        guard d >= 0 && d < x.count else { throw ShapeProblem(.shape, "torch.chunk dim \(dim) out of range for \(ShapeCheck.fmt(x))") }
        guard x[d] % chunks == 0 else {
            throw ShapeProblem(.shape, "torch.chunk(\(chunks), dim=\(dim)) of \(x[d]) would give unequal pieces (input \(ShapeCheck.fmt(x))); the branches after it expect equal halves")
        }
        var out = x
        out[d] = x[d] / chunks
        return out
    }
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { false }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let d = dim < 0 ? dim + c.x.count : dim
        return [Formula("chunk", "piece \(index) of \(chunks) along dim \(dim): \(c.x[d]) / \(chunks) = \(c.output[d]), a view (no copy)")]
    }
}

/// torchvision's shufflenetv2.channel_shuffle(x, groups): view [N, g, C/g, H, W], transpose(1, 2),
/// view back — channel c·g + k of the output is channel k·(C/g) + c of the input.
public struct ChannelShuffle: ParameterFree {
    public static let className = "channel_shuffle"
    public static let moduleName: String? = nil
    public static let functionNames = ["channel_shuffle"]
    public static let functionName = "channel_shuffle"
    public static let category = LayerCategory.reshape
    public static let signature = Signature([("groups", nil)])
    public var groups: Int
    public var layer: Layer { .channelShuffle(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) { groups = try Args(v, "channel_shuffle").int("groups", min: 1) }
    public var extraRepr: String { "groups=\(groups)" }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.nchw(inputs, "channel_shuffle")
        guard x[1] % groups == 0 else {
            throw ShapeProblem(.shape, "channel_shuffle with \(groups) groups needs a channel count divisible by \(groups), got \(x[1]) (input \(ShapeCheck.fmt(x)))")
        }
        return x
    }
    /// Data movement (the transpose is made contiguous): no arithmetic under any convention.
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: 0) }
    public func spatial(_ c: LayerCall) -> SpatialRule { .pointwise }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let cpg = c.x[1] / groups
        return [Formula("shuffle", "view [N, \(groups), \(cpg), H, W], transpose groups and channels, view back: output channel i·\(groups) + g is input channel g·\(cpg) + i — each half of the next split sees both branches")]
    }
}

/// x.mean(dim, keepdim): `torch.mean(dim=(2, 3))` (MNASNet, ShuffleNetV2 heads).
public struct Mean: ParameterFree {
    public static let className = "mean"
    public static let moduleName: String? = nil
    public static let functionNames = ["torch.mean"]
    public static let functionName = "mean"
    public static let category = LayerCategory.pooling
    public static let signature = Signature([("dim", nil), ("keepdim", .bool(false))])
    public var dims: [Int]
    public var keepdim: Bool
    public var layer: Layer { .mean(self) }
    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "torch.mean")
        dims = try a.ints("dim"); keepdim = try a.bool("keepdim")
    }
    public var extraRepr: String { "dim=(\(dims.map(String.init).joined(separator: ", "))), keepdim=\(keepdim ? "True" : "False")" }
    public func resolved(_ rank: Int) -> [Int] { dims.map { $0 < 0 ? $0 + rank : $0 } }
    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.single(inputs, "torch.mean")
        let ds = resolved(x.count)
        guard ds.allSatisfy({ $0 >= 0 && $0 < x.count }), Set(ds).count == ds.count else {
            throw ShapeProblem(.shape, "torch.mean dims (\(dims.map(String.init).joined(separator: ", "))) out of range for \(ShapeCheck.fmt(x))")
        }
        return x.indices.compactMap { i in ds.contains(i) ? (keepdim ? 1 : nil) : x[i] }
    }
    /// ConvLens: one add per input element (the divides folded in: n − 1 adds + 1 divide per mean).
    /// fvcore: aten::mean is not a counted op. thop: invisible (not a module). ptflops: not patched.
    public func operations(_ c: LayerCall) -> OperationCounts { OperationCounts(flops: c.inputElements) }
    public func spatial(_ c: LayerCall) -> SpatialRule {
        let ds = Set(resolved(c.x.count))
        return c.x.count == 4 && ds.isSuperset(of: [2, 3]) ? .global : .pointwise
    }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        let n = resolved(c.x.count).map { c.x[$0] }
        return [Formula("mean", "over dims (\(dims.map(String.init).joined(separator: ", "))): \(n.map(String.init).joined(separator: "·")) = \(n.reduce(1, *)) values per output; \(FormulaText.shape(c.x)) → \(FormulaText.shape(c.output))")]
    }
}

extension Flatten {
    /// `nn.Flatten(…)` / `torch.flatten(x, …)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call("torch.flatten")) : .module("nn.Flatten(\(c.argumentList))")
    }
}

extension Identity {
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .module("nn.Identity(\(c.argumentList))") }
}

extension Permute {
    /// torchvision.ops.misc.Permute (defined in model.py) / `torch.permute(x, dims)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call("torch.permute")) : .module("Permute(\(c.argumentList))", helpers: [helper])
    }

    static let helper = PyTorchHelper(name: "Permute", source: """
        class Permute(nn.Module):
            \"\"\"torchvision.ops.misc.Permute.\"\"\"

            def __init__(self, dims):
                super().__init__()
                self.dims = dims

            def forward(self, x):
                return torch.permute(x, self.dims)
        """)
}

extension Chunk {
    /// `torch.chunk(x, chunks, dim=…)[index]` (torchvision's `x1, x2 = x.chunk(2, dim=1)`).
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        .function("torch.chunk(\(c.input), \(c.value("chunks", in: signature)), dim=\(c.value("dim", in: signature)))[\(c.value("index", in: signature))]")
    }
}

extension ChannelShuffle {
    /// torchvision.models.shufflenetv2.channel_shuffle (defined in model.py).
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        .function(c.call("channel_shuffle"), helpers: [helper])
    }

    static let helper = PyTorchHelper(name: "channel_shuffle", source: """
        def channel_shuffle(x, groups):
            \"\"\"torchvision.models.shufflenetv2.channel_shuffle.\"\"\"
            batchsize, num_channels, height, width = x.size()
            channels_per_group = num_channels // groups
            x = x.view(batchsize, groups, channels_per_group, height, width)
            x = torch.transpose(x, 1, 2).contiguous()
            return x.view(batchsize, num_channels, height, width)
        """)
}

extension Mean {
    /// `torch.mean(x, dim=…, keepdim=…)` (torchvision's `x.mean([2, 3])`).
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .function(c.call("torch.mean")) }
}

extension Flatten {
    /// `Flatten(axis=start_dim)` when it flattens to the last dim (ONNX's Flatten always gives 2-D,
    /// so only from a rank where that is torch's result); otherwise a `Reshape` to the output shape.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        let r = c.x.count
        let s = startDim < 0 ? startDim + r : startDim, e = endDim < 0 ? endDim + r : endDim
        if e == r - 1, s >= 1, c.outputShape.count == 2 { return .op("Flatten", [], ["axis": .int(s)], module: c.repr) }
        return .op("Reshape", [.constant("shape")], constants: [.ints("shape", c.outputShape)], module: c.repr)
    }
}

extension Identity {
    public func onnx(_ c: ONNXCall) -> ONNXSpelling { .op("Identity", module: c.repr) }
}

extension Permute {
    /// `Transpose(perm=dims)`; the module prints `Permute()`, so the import's constructor states the dims.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        .op("Transpose", [], ["perm": .ints(dims)], module: "Permute([\(dims.map(String.init).joined(separator: ", "))])")
    }
}

extension Chunk {
    /// Opset 18's `Split(num_outputs=chunks)` along dim; the call is piece `index`.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        let d = dim < 0 ? dim + c.x.count : dim
        return .nodes([ONNXStep("Split", [.input(0)], ["axis": .int(d), "num_outputs": .int(chunks)], outputs: chunks)],
                      result: .step(0, output: index))
    }
}

extension ChannelShuffle {
    /// torchvision's view / transpose / view: `Reshape` to [N, g, C/g, H, W], `Transpose(0, 2, 1, 3, 4)`,
    /// `Reshape` back.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        let x = c.x
        return .nodes([ONNXStep("Reshape", [.input(0), .constant("grouped")]), ONNXStep("Transpose", [.step(0)], ["perm": .ints([0, 2, 1, 3, 4])]),
                       ONNXStep("Reshape", [.step(1), .constant("shape")])],
                      constants: [.ints("grouped", [x[0], groups, x[1] / groups, x[2], x[3]]), .ints("shape", x)])
    }
}

extension Mean {
    /// `ReduceMean` with the axes as an input (opset 18).
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        .op("ReduceMean", [.constant("axes")], ["keepdims": .int(keepdim ? 1 : 0)], constants: [.ints("axes", resolved(c.x.count))])
    }
}
