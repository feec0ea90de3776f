/// torch.nn.Conv2d. Weight [OC, IC/groups, KH, KW], bias [OC].
public struct Conv2d: LayerSpec, Hashable {
    public static let className = "Conv2d"
    static let signature = Signature([
        ("in_channels", nil), ("out_channels", nil), ("kernel_size", nil), ("stride", .int(1)),
        ("padding", .int(0)), ("dilation", .int(1)), ("groups", .int(1)), ("bias", .bool(true)),
        ("padding_mode", .string("zeros")),
    ])
    public var inChannels: Int
    public var outChannels: Int
    public var kernelSize: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]
    public var groups: Int
    public var bias: Bool

    public init(inChannels: Int, outChannels: Int, kernelSize: [Int], stride: [Int] = [1, 1], padding: [Int] = [0, 0],
                dilation: [Int] = [1, 1], groups: Int = 1, bias: Bool = true) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernelSize = kernelSize
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups; self.bias = bias
    }

    init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "Conv2d")
        inChannels = try a.int("in_channels", min: 1)
        outChannels = try a.int("out_channels", min: 1)
        kernelSize = try a.pair("kernel_size", min: 1)
        stride = try a.pair("stride", min: 1)
        padding = try a.pair("padding", min: 0)
        dilation = try a.pair("dilation", min: 1)
        groups = try a.int("groups", min: 1)
        bias = try a.bool("bias")
        guard a["padding_mode"].stringValue == "zeros" else {
            throw ShapeProblem(.badArgument, "Conv2d padding_mode \(a["padding_mode"]) is not supported (only 'zeros')")
        }
        guard inChannels % groups == 0, outChannels % groups == 0 else {
            throw ShapeProblem(.badArgument, "Conv2d in_channels (\(inChannels)) and out_channels (\(outChannels)) must be divisible by groups (\(groups))")
        }
    }

    // torch's Conv2d.extra_repr: defaults are left out.
    public var extraRepr: String {
        var s = "\(inChannels), \(outChannels), kernel_size=\(tuple(kernelSize)), stride=\(tuple(stride))"
        if padding != [0, 0] { s += ", padding=\(tuple(padding))" }
        if dilation != [1, 1] { s += ", dilation=\(tuple(dilation))" }
        if groups != 1 { s += ", groups=\(groups)" }
        if !bias { s += ", bias=False" }
        return s
    }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.nchw(inputs, "Conv2d")
        guard x[1] == inChannels else {
            throw ShapeProblem(.channelMismatch, "Conv2d expects \(inChannels) input channels but receives \(x[1]) (input \(ShapeCheck.fmt(x)))")
        }
        var out = [x[0], outChannels]
        for i in 0..<2 {
            let span = dilation[i] * (kernelSize[i] - 1) + 1
            if x[2 + i] + 2 * padding[i] < span {
                throw ShapeProblem(.inputTooSmall, "Conv2d kernel (\(span) with dilation) is larger than its padded input (\(x[2 + i]) + 2·\(padding[i]) = \(x[2 + i] + 2 * padding[i])) on axis \(i == 0 ? "H" : "W")")
            }
            out.append(ShapeCheck.windowOutput(x[2 + i], k: kernelSize[i], s: stride[i], p: padding[i], d: dilation[i], ceil: false))
        }
        return out
    }

    public var parameters: [TensorSpec] {
        var p = [TensorSpec("weight", [outChannels, inChannels / groups, kernelSize[0], kernelSize[1]])]
        if bias { p.append(TensorSpec("bias", [outChannels])) }
        return p
    }

    // MACs = output elements × (in_channels / groups × kh × kw)
    public func macs(inputs: [[Int]], output: [Int]) -> Int {
        output.reduce(1, *) * (inChannels / groups) * kernelSize[0] * kernelSize[1]
    }

    public var window: Window? { Window(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation) }
}

func tuple(_ v: [Int]) -> String { "(" + v.map(String.init).joined(separator: ", ") + ")" }
