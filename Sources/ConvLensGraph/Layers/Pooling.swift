/// torch.nn.MaxPool2d / F.max_pool2d. Arguments keep the form written (int or pair), as torch prints them.
public struct MaxPool2d: LayerSpec, Hashable {
    public static let className = "MaxPool2d"
    static let signature = Signature([
        ("kernel_size", nil), ("stride", .null), ("padding", .int(0)), ("dilation", .int(1)),
        ("return_indices", .bool(false)), ("ceil_mode", .bool(false)),
    ])
    public var kernelSize: [Int], stride: [Int], padding: [Int], dilation: [Int]
    public var ceilMode: Bool
    var written: BoundArguments

    init(_ v: BoundArguments) throws(ShapeProblem) {
        var v = v
        if v["stride"] == ZooValue.null { v["stride"] = v["kernel_size"] }   // torch: stride defaults to kernel_size
        let a = Args(v, "MaxPool2d")
        kernelSize = try a.pair("kernel_size", min: 1)
        stride = try a.pair("stride", min: 1)
        padding = try a.pair("padding", min: 0)
        dilation = try a.pair("dilation", min: 1)
        ceilMode = try a.bool("ceil_mode")
        guard try !a.bool("return_indices") else { throw ShapeProblem(.badArgument, "MaxPool2d return_indices=True is not supported") }
        for i in 0..<2 where padding[i] * 2 > kernelSize[i] {
            throw ShapeProblem(.badArgument, "MaxPool2d padding (\(padding[i])) must be at most half the kernel size (\(kernelSize[i]))")
        }
        written = v
    }

    public var extraRepr: String {
        "kernel_size=\(written["kernel_size"]!), stride=\(written["stride"]!), padding=\(written["padding"]!), dilation=\(written["dilation"]!), ceil_mode=\(ceilMode ? "True" : "False")"
    }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.nchw(inputs, "MaxPool2d")
        return try poolShape(x, window!, ceil: ceilMode, what: "MaxPool2d")
    }

    public var window: Window? { Window(kernel: kernelSize, stride: stride, padding: padding, dilation: dilation) }
}

/// torch.nn.AvgPool2d / F.avg_pool2d. count_include_pad defaults to True as in torch.
public struct AvgPool2d: LayerSpec, Hashable {
    public static let className = "AvgPool2d"
    static let signature = Signature([
        ("kernel_size", nil), ("stride", .null), ("padding", .int(0)), ("ceil_mode", .bool(false)),
        ("count_include_pad", .bool(true)), ("divisor_override", .null),
    ])
    public var kernelSize: [Int], stride: [Int], padding: [Int]
    public var ceilMode: Bool
    public var countIncludePad: Bool
    var written: BoundArguments

    init(_ v: BoundArguments) throws(ShapeProblem) {
        var v = v
        if v["stride"] == ZooValue.null { v["stride"] = v["kernel_size"] }
        let a = Args(v, "AvgPool2d")
        kernelSize = try a.pair("kernel_size", min: 1)
        stride = try a.pair("stride", min: 1)
        padding = try a.pair("padding", min: 0)
        ceilMode = try a.bool("ceil_mode")
        countIncludePad = try a.bool("count_include_pad")
        guard v["divisor_override"] == ZooValue.null else { throw ShapeProblem(.badArgument, "AvgPool2d divisor_override is not supported") }
        for i in 0..<2 where padding[i] * 2 > kernelSize[i] {
            throw ShapeProblem(.badArgument, "AvgPool2d padding (\(padding[i])) must be at most half the kernel size (\(kernelSize[i]))")
        }
        written = v
    }

    // torch's AvgPool2d.extra_repr shows only these three.
    public var extraRepr: String {
        "kernel_size=\(written["kernel_size"]!), stride=\(written["stride"]!), padding=\(written["padding"]!)"
    }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.nchw(inputs, "AvgPool2d")
        return try poolShape(x, window!, ceil: ceilMode, what: "AvgPool2d")
    }

    public var window: Window? { Window(kernel: kernelSize, stride: stride, padding: padding) }
}

func poolShape(_ x: [Int], _ w: Window, ceil: Bool, what: String) throws(ShapeProblem) -> [Int] {
    var out = [x[0], x[1]]
    for i in 0..<2 {
        let o = ShapeCheck.windowOutput(x[2 + i], k: w.kernel[i], s: w.stride[i], p: w.padding[i], d: w.dilation[i], ceil: ceil)
        if o < 1 {
            throw ShapeProblem(.inputTooSmall, "\(what) window (\(w.effectiveKernel[i])) is larger than its padded input (\(x[2 + i] + 2 * w.padding[i])) on axis \(i == 0 ? "H" : "W")")
        }
        out.append(o)
    }
    return out
}

/// torch.nn.AdaptiveAvgPool2d: bin i spans [⌊i·n/o⌋, ⌈(i+1)·n/o⌉).
public struct AdaptiveAvgPool2d: LayerSpec, Hashable {
    public static let className = "AdaptiveAvgPool2d"
    static let signature = Signature([("output_size", nil)])
    public var outputSize: [Int]
    var written: ZooValue

    init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "AdaptiveAvgPool2d")
        outputSize = try a.pair("output_size", min: 1)
        written = a["output_size"]
    }

    public var extraRepr: String { "output_size=\(written)" }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.nchw(inputs, "AdaptiveAvgPool2d")
        return [x[0], x[1], outputSize[0], outputSize[1]]
    }

    /// The [start, end) input range of each output bin along an axis of length n.
    public static func bins(input n: Int, output o: Int) -> [(Int, Int)] {
        (0..<o).map { i in ((i * n) / o, ((i + 1) * n + o - 1) / o) }
    }
}
