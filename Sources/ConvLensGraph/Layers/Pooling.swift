/// torch.nn.MaxPool2d / F.max_pool2d. Arguments keep the form written (int or pair), as torch prints them.
public struct MaxPool2d: LayerSpec, Hashable {
    public static let className = "MaxPool2d"
    public static let moduleName: String? = "MaxPool2d"
    public static let functionNames: [String] = ["F.max_pool2d"]
    public static let functionName = "max_pool2d"
    public static let category = LayerCategory.pooling
    public var layer: Layer { .maxPool2d(self) }
    public static let torchInit: [(parameter: String, rule: String)] = []
    public var parameters: [TensorSpec] { [] }
    public var buffers: [TensorSpec] { [] }
    public func macs(_ c: LayerCall) -> Int { 0 }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public static let signature = Signature([
        ("kernel_size", nil), ("stride", .null), ("padding", .int(0)), ("dilation", .int(1)),
        ("return_indices", .bool(false)), ("ceil_mode", .bool(false)),
    ])
    public var kernelSize: [Int], stride: [Int], padding: [Int], dilation: [Int]
    public var ceilMode: Bool
    var written: BoundArguments

    public init(_ v: BoundArguments) throws(ShapeProblem) {
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
    public func spatial(_ c: LayerCall) -> SpatialRule { .window(window!) }

    /// ConvLens: k·k − 1 comparisons per output. fvcore and thop: none. ptflops
    /// (pool_flops_counter_hook): numel(x) for the module hook and again for the patched F.max_pool2d.
    public func operations(_ c: LayerCall) -> OperationCounts {
        OperationCounts(flops: Checked.satMul(c.outputElements, kernelSize[0] * kernelSize[1] - 1),
                        ptflopsModule: Double(c.inputElements), ptflopsFunctional: Double(c.inputElements))
    }
    public var summaryKernel: String? { poolKernelText(written["kernel_size"]!) }
    public func formulas(_ c: LayerCall) -> [Formula] {
        FormulaText.windowLines(c.x, c.output, window!, ceil: ceilMode)
            + [Formula("parameters", "none; max over each \(kernelSize[0])×\(kernelSize[1]) window, per channel")]
    }
}

/// torch.nn.AvgPool2d / F.avg_pool2d. count_include_pad defaults to True as in torch.
public struct AvgPool2d: LayerSpec, Hashable {
    public static let className = "AvgPool2d"
    public static let moduleName: String? = "AvgPool2d"
    public static let functionNames: [String] = ["F.avg_pool2d"]
    public static let functionName = "avg_pool2d"
    public static let category = LayerCategory.pooling
    public var layer: Layer { .avgPool2d(self) }
    public static let torchInit: [(parameter: String, rule: String)] = []
    public var parameters: [TensorSpec] { [] }
    public var buffers: [TensorSpec] { [] }
    public func macs(_ c: LayerCall) -> Int { 0 }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public static let signature = Signature([
        ("kernel_size", nil), ("stride", .null), ("padding", .int(0)), ("ceil_mode", .bool(false)),
        ("count_include_pad", .bool(true)), ("divisor_override", .null),
    ])
    public var kernelSize: [Int], stride: [Int], padding: [Int]
    public var ceilMode: Bool
    public var countIncludePad: Bool
    var written: BoundArguments

    public init(_ v: BoundArguments) throws(ShapeProblem) {
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
    public func spatial(_ c: LayerCall) -> SpatialRule { .window(window!) }

    /// ConvLens: k·k − 1 adds + 1 divide per output. fvcore: none. thop (count_avgpool): numel(y).
    /// ptflops: numel(x) for the module hook and again for the patched F.avg_pool2d.
    public func operations(_ c: LayerCall) -> OperationCounts {
        OperationCounts(flops: Checked.satMul(c.outputElements, kernelSize[0], kernelSize[1]), thop: Double(c.outputElements),
                        ptflopsModule: Double(c.inputElements), ptflopsFunctional: Double(c.inputElements))
    }
    public var summaryKernel: String? { poolKernelText(written["kernel_size"]!) }
    public func formulas(_ c: LayerCall) -> [Formula] {
        FormulaText.windowLines(c.x, c.output, window!, ceil: ceilMode)
            + [Formula("parameters", "none; mean over each \(kernelSize[0])×\(kernelSize[1]) window" + (countIncludePad && padding != [0, 0] ? ", padding zeros counted (count_include_pad=True)" : ""))]
    }
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
    public static let moduleName: String? = "AdaptiveAvgPool2d"
    public static let functionNames: [String] = ["F.adaptive_avg_pool2d"]
    public static let functionName = "adaptive_avg_pool2d"
    public static let category = LayerCategory.pooling
    public var layer: Layer { .adaptiveAvgPool2d(self) }
    public static let torchInit: [(parameter: String, rule: String)] = []
    public var parameters: [TensorSpec] { [] }
    public var buffers: [TensorSpec] { [] }
    public func macs(_ c: LayerCall) -> Int { 0 }
    public func allocates(_ c: LayerCall) -> Bool { true }
    public static let signature = Signature([("output_size", nil)])
    public var outputSize: [Int]
    var written: ZooValue

    public init(_ v: BoundArguments) throws(ShapeProblem) {
        let a = Args(v, "AdaptiveAvgPool2d")
        outputSize = try a.pair("output_size", min: 1)
        written = a["output_size"]
    }

    public var extraRepr: String { "output_size=\(written)" }

    public func outputShape(_ inputs: [[Int]]) throws(ShapeProblem) -> [Int] {
        let x = try ShapeCheck.nchw(inputs, "AdaptiveAvgPool2d")
        return [x[0], x[1], outputSize[0], outputSize[1]]
    }

    public func spatial(_ c: LayerCall) -> SpatialRule { .adaptive(outputSize: outputSize) }

    /// ConvLens: each output reads its bin (|bin| − 1 adds + 1 divide = |bin| ops): N·C·Σh_i·Σw_j.
    /// fvcore (adaptive_avg_pool2d handle): numel(x). thop (count_adap_avgpool): (prod(in/out) + 1)·numel(y),
    /// with float ratios, truncated.
    /// ptflops: numel(x) for the module hook and again for the patched function; the functional
    /// F.adaptive_avg_pool2d alone: numel(x) (fvcore too), thop and torchinfo nothing.
    public func operations(_ c: LayerCall) -> OperationCounts {
        let x = c.x, y = c.output
        let sh = AdaptiveAvgPool2d.binWidthSum(input: x[2], output: outputSize[0])
        let sw = AdaptiveAvgPool2d.binWidthSum(input: x[3], output: outputSize[1])
        // thop: int((prod(in / out) + 1)·numel(y)) in float64, truncated, in this order.
        let kernel = (Double(x[2]) / Double(y[2])) * (Double(x[3]) / Double(y[3]))
        let thop = ((kernel + 1) * Double(c.outputElements)).rounded(.towardZero)
        return OperationCounts(flops: Checked.satMul(x[0], x[1], sh, sw), fvcore: c.inputElements, thop: thop,
                               ptflopsModule: Double(c.inputElements), ptflopsFunctional: Double(c.inputElements))
    }
    public var summaryKernel: String? { nil }
    public func formulas(_ c: LayerCall) -> [Formula] {
        (0..<2).map { i in
            let bins = AdaptiveAvgPool2d.lazyBins(input: c.x[2 + i], output: outputSize[i])
            let shown = bins.prefix(8).map { "[\($0.0), \($0.1))" }.joined(separator: " ") + (bins.count > 8 ? " …" : "")
            return Formula(i == 0 ? "row bins" : "column bins", "bin i spans [⌊i·\(c.x[2 + i])/\(outputSize[i])⌋, ⌈(i+1)·\(c.x[2 + i])/\(outputSize[i])⌉): \(shown)")
        }
    }

    /// The [start, end) input range of each output bin along an axis of length n.
    public static func bins(input n: Int, output o: Int) -> [(Int, Int)] {
        Array(lazyBins(input: n, output: o))
    }
    /// `bins` without the array (an output axis may be long); i·n in full width: it may pass 2^63.
    public static func lazyBins(input n: Int, output o: Int) -> LazyMapSequence<Range<Int>, (Int, Int)> {
        func floorDiv(_ a: Int, _ b: Int) -> (Int, Bool) {
            let (q, r) = o.dividingFullWidth(a.multipliedFullWidth(by: b))
            return (q, r != 0)
        }
        return (0..<o).lazy.map { i in
            let start = floorDiv(i, n).0
            let (q, rest) = floorDiv(i + 1, n)
            return (start, rest ? q + 1 : q)
        }
    }
    /// Σ of the bin widths along an axis, in closed form (an output axis may be 2^31 long):
    /// Σ⌈(i+1)n/o⌉ − ⌊in/o⌋ telescopes to n plus one for every i in 1…o where o ∤ i·n, that is
    /// n + o − gcd(n, o).
    public static func binWidthSum(input n: Int, output o: Int) -> Int { n + o - gcd(n, o) }
    /// The widest bin: with i·n = q·o + r, bin i is ⌈(r + n)/o⌉ wide, and r reaches o − gcd(n, o).
    public static func maxBinWidth(input n: Int, output o: Int) -> Int { (n + o - gcd(n, o) + o - 1) / o }
    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

/// torchinfo's get_kernel_size for pools: list(kernel_size) for a tuple, the int as written.
func poolKernelText(_ v: ZooValue) -> String? {
    switch v {
    case .int(let k): return String(k)
    case .tuple(let vs): return "[" + vs.map(\.description).joined(separator: ", ") + "]"
    default: return nil
    }
}

extension MaxPool2d {
    /// `nn.MaxPool2d(…)` / `F.max_pool2d(x, …)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call("F.max_pool2d")) : .module("nn.MaxPool2d(\(c.argumentList))")
    }
}

extension AvgPool2d {
    /// `nn.AvgPool2d(…)` / `F.avg_pool2d(x, …)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call("F.avg_pool2d")) : .module("nn.AvgPool2d(\(c.argumentList))")
    }
}

extension AdaptiveAvgPool2d {
    /// `nn.AdaptiveAvgPool2d(…)` / `F.adaptive_avg_pool2d(x, …)`.
    public static func pytorch(_ c: PyTorchCall) -> PyTorchSpelling {
        c.isFunction ? .function(c.call("F.adaptive_avg_pool2d")) : .module("nn.AdaptiveAvgPool2d(\(c.argumentList))")
    }
}

extension MaxPool2d {
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        .op("MaxPool", [], ["kernel_shape": .ints(kernelSize), "strides": .ints(stride), "pads": .ints(onnxPads(padding)),
                            "dilations": .ints(dilation), "ceil_mode": .int(ceilMode ? 1 : 0)], module: c.repr)
    }
}

extension AvgPool2d {
    /// `AveragePool`; the module's print leaves out ceil_mode and count_include_pad, so the zoo
    /// constructor for the import states them.
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        .op("AveragePool", [], ["kernel_shape": .ints(kernelSize), "strides": .ints(stride), "pads": .ints(onnxPads(padding)),
                                "ceil_mode": .int(ceilMode ? 1 : 0), "count_include_pad": .int(countIncludePad ? 1 : 0)],
            module: "AvgPool2d(\(extraRepr), ceil_mode=\(ceilMode ? "True" : "False"), count_include_pad=\(countIncludePad ? "True" : "False"))")
    }
}

extension AdaptiveAvgPool2d {
    /// To 1×1: `GlobalAveragePool`. Bins of equal width (the input a multiple of the output):
    /// `AveragePool` with kernel = stride = input/output. Otherwise torch's uneven bins as two
    /// constant averaging matrices, Y = A_H · X · A_Wᵀ (`MatMul` broadcasts over N and C).
    public func onnx(_ c: ONNXCall) -> ONNXSpelling {
        let x = c.x
        let module = c.repr
        if outputSize == [1, 1] { return .op("GlobalAveragePool", module: module) }
        if x[2] % outputSize[0] == 0, x[3] % outputSize[1] == 0 {
            let k = [x[2] / outputSize[0], x[3] / outputSize[1]]
            return .op("AveragePool", [], ["kernel_shape": .ints(k), "strides": .ints(k)], module: module)
        }
        func averaging(_ n: Int, _ o: Int) -> [Float] {        // [o, n]: row i averages bin i
            var a = [Float](repeating: 0, count: o * n)
            for (i, (s, e)) in AdaptiveAvgPool2d.bins(input: n, output: o).enumerated() {
                for j in s..<e { a[i * n + j] = 1 / Float(e - s) }
            }
            return a
        }
        let ah = averaging(x[2], outputSize[0]), aw = averaging(x[3], outputSize[1])
        var awT = [Float](repeating: 0, count: aw.count)          // [W, OW]
        for i in 0..<outputSize[1] { for j in 0..<x[3] { awT[j * outputSize[1] + i] = aw[i * x[3] + j] } }
        return .nodes([ONNXStep("MatMul", [.constant("rows"), .input(0)]), ONNXStep("MatMul", [.step(0), .constant("columns")])],
                      constants: [ONNXConstant("rows", dims: [outputSize[0], x[2]], floats: ah),
                                  ONNXConstant("columns", dims: [x[3], outputSize[1]], floats: awT)], module: module)
    }
}
