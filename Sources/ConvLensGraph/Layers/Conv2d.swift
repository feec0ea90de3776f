import Foundation

/// torch.nn.Conv2d. Weight [OC, IC/groups, KH, KW], bias [OC].
public struct Conv2d: LayerSpec, Hashable {
    public static let className = "Conv2d"
    public static let moduleName: String? = "Conv2d"
    public static let functionNames: [String] = []
    public static let functionName = "conv2d"
    public static let category = LayerCategory.convolution
    public var layer: Layer { .conv2d(self) }
    public static let signature = Signature([
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

    public init(_ v: BoundArguments) throws(ShapeProblem) {
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

    /// torch's Conv2d.reset_parameters(): kaiming_uniform_(weight, a=√5) = U(±1/√fan_in); the bias
    /// U(±1/√fan_in) with the weight's fan_in (`fan_in` of a 1-D tensor is its module weight's).
    public static let torchInit = [(parameter: "weight", rule: "kaiming_uniform(a=sqrt(5))"),
                                   (parameter: "bias", rule: "uniform(-1 / sqrt(fan_in), 1 / sqrt(fan_in))")]
    public var parameters: [TensorSpec] {
        var p = [TensorSpec("weight", [outChannels, inChannels / groups, kernelSize[0], kernelSize[1]])]
        if bias { p.append(TensorSpec("bias", [outChannels])) }
        return p
    }

    public var buffers: [TensorSpec] { [] }

    // MACs = output elements × (in_channels / groups × kh × kw)
    public func macs(_ c: LayerCall) -> Int {
        Checked.satMul(c.outputElements, inChannels / groups, kernelSize[0], kernelSize[1])
    }

    /// ConvLens: 2 per MAC + one bias add per output. fvcore (conv handle) and thop (count_convNd):
    /// the MACs, bias ignored. ptflops (conv_flops_counter_hook): MACs + one per output for the bias.
    public func operations(_ c: LayerCall) -> OperationCounts {
        let m = macs(c), b = bias ? c.outputElements : 0
        return OperationCounts(flops: Checked.satAdd(Checked.satMul(2, m), b), fvcore: m, thop: Double(m), ptflopsModule: Double(m) + Double(b))
    }

    public func spatial(_ c: LayerCall) -> SpatialRule {
        .window(Window(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation))
    }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public var summaryKernel: String? { "[" + kernelSize.map(String.init).joined(separator: ", ") + "]" }

    public func formulas(_ c: LayerCall) -> [Formula] {
        let x = c.x, y = c.output, g = groups
        let w = Window(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation)
        var lines = FormulaText.windowLines(x, y, w, ceil: false)
        let perFilter = "\(inChannels / g)·\(kernelSize[0])·\(kernelSize[1])"
        let weights = "\(outChannels)·" + perFilter
        let weightCount = outChannels * (inChannels / g) * kernelSize[0] * kernelSize[1]
        lines.append(Formula("parameters", FormulaText.parameterCount(weights, weightCount: weightCount, bias: bias ? outChannels : nil)))
        if g > 1 {
            let kind = g == inChannels && g == outChannels ? "depthwise" : (g == inChannels ? "depthwise (channel multiplier \(outChannels / g))" : "grouped")
            lines.append(Formula("groups", "\(kind): \(g) groups, each \(inChannels / g) → \(outChannels / g) channels; a dense conv would need \(g)× the weights (\(FormulaText.count(Checked.mul(weightCount, g), Double(weightCount) * Double(g))))"))
        }
        lines.append(Formula("MACs", "\(FormulaText.batch(y[0]))\(outChannels)·\(y[2])·\(y[3]) outputs × \(perFilter) = \(FormulaText.num(macs(c)))"))
        let fcParams = Checked.product([x[1], x[2], x[3], y[1], y[2], y[3]])
        let fcApprox = [x[1], x[2], x[3], y[1], y[2], y[3]].reduce(1.0) { $0 * Double($1) }
        let params = max(weightCount + (bias ? outChannels : 0), 1)
        let r = fcApprox / Double(params)
        let ratio = r >= 10 ? "\(FormulaText.count(r < 9e18 ? Int(r.rounded()) : nil, r))×" : String(format: "%.1f×", r)
        lines.append(Formula("vs. linear", "a fully connected layer between the same shapes needs \(x[1])·\(x[2])·\(x[3])·\(y[1])·\(y[2])·\(y[3]) = \(FormulaText.count(fcParams, fcApprox)) weights (\(ratio) this layer's)"))
        return lines
    }
}

extension Conv2d {
    /// `nn.Conv2d(…)`: the zoo's arguments are torch's, as written.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling { .module("nn.Conv2d(\(c.argumentList))") }
}

extension Conv2d {
    /// `Conv(x, weight[, bias])` with torch's arguments as attributes.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        .op("Conv", bias ? [.parameter("weight"), .parameter("bias")] : [.parameter("weight")],
            ["kernel_shape": .ints(kernelSize), "strides": .ints(stride), "pads": .ints(onnxPads(padding)), "dilations": .ints(dilation),
             "group": .int(groups)], module: c.repr)
    }
}
