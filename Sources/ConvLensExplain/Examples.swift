import ConvLensAnalysis
import ConvLensEngine
import ConvLensGraph
import Foundation

/// The classic worked examples of the course notes (cross-correlation, padding and stride,
/// channels, 1×1 convolutions, pooling, receptive fields), each written as a tiny zoo model and
/// run through the engine's own kernels, then checked against its known answer.
public enum Examples {
    public struct Outcome: Sendable {
        public var title: String
        public var text: String
        public var passed: Bool
    }

    public struct Report: Sendable {
        public var outcomes: [Outcome]
        public var passed: Bool { outcomes.allSatisfy(\.passed) }
        public var text: String {
            outcomes.map { "\($0.passed ? "✓" : "✗") \($0.title)\n\($0.text)" }.joined(separator: "\n")
                + "\n\(outcomes.filter(\.passed).count)/\(outcomes.count) examples agree with their known answers.\n"
        }
    }

    static let X: [Float] = [0, 1, 2, 3, 4, 5, 6, 7, 8]          // [[0,1,2],[3,4,5],[6,7,8]]
    static let K: [Float] = [0, 1, 2, 3]                          // [[0,1],[2,3]]

    public static func runAll() -> Report {
        let cases: [() throws -> Outcome] = [
            crossCorrelation, paddingAndStride, paddingShapes, twoInputChannels, severalOutputChannels,
            pointwiseIsMatrixProduct, pooling, twoStackedConvolutionsSeeEverything, threeByThreeStack,
        ]
        return Report(outcomes: cases.map { c in
            do { return try c() } catch { return Outcome(title: "example failed to run", text: "  \(error)\n", passed: false) }
        })
    }

    /// Builds a one-off model from zoo text and runs it forward (eval) with the given weights.
    static func run(_ zoo: String, input: Tensor, weights: [String: [Float]]) throws -> (Engine, Tensor) {
        let file = try ZooParser.parse("model example\ninput \(input.shape.map(String.init).joined(separator: " "))\n" + zoo, file: "example")
        let g = try GraphBuilder.build(file)
        var w: [String: Tensor] = [:]
        for e in g.stateDict() {
            guard let v = weights[e.key] else { throw EngineError("example is missing weights for \(e.key)") }
            w[e.key] = Tensor(shape: e.shape, values: v)
        }
        let engine = try Engine(graph: g, weights: w)
        return (engine, try engine.forward(input, training: false))
    }

    static func check(_ title: String, input: Tensor, kernel: Tensor?, output: Tensor, expected: [Float], expectedShape: [Int]) -> Outcome {
        var text = "  input  \(matrix(input))\n"
        if let kernel { text += "  kernel \(matrix(kernel))\n" }
        text += "  output \(matrix(output))\n"
        let ok = output.shape == expectedShape && zip(output.values, expected).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) } && output.count == expected.count
        text += "  known  \(matrix(Tensor(shape: expectedShape, values: expected)))\n"
        return Outcome(title: title, text: text, passed: ok)
    }

    static func crossCorrelation() throws -> Outcome {
        let x = Tensor(shape: [1, 1, 3, 3], values: X)
        let (_, y) = try run("conv = Conv2d(1, 1, kernel_size=2, bias=False)\n", input: x, weights: ["conv.weight": K])
        return check("cross-correlation: X ⋆ K", input: x, kernel: Tensor(shape: [1, 1, 2, 2], values: K), output: y, expected: [19, 25, 37, 43], expectedShape: [1, 1, 2, 2])
    }

    static func paddingAndStride() throws -> Outcome {
        let x = Tensor(shape: [1, 1, 3, 3], values: X)
        let (_, y) = try run("conv = Conv2d(1, 1, kernel_size=2, padding=1, stride=(3, 2), bias=False)\n", input: x, weights: ["conv.weight": K])
        return check("padding 1, stride (3, 2): ⌊(3 + 2 − 2)/3⌋ + 1 = 2 rows, ⌊(3 + 2 − 2)/2⌋ + 1 = 2 columns",
                     input: x, kernel: Tensor(shape: [1, 1, 2, 2], values: K), output: y, expected: [0, 8, 6, 8], expectedShape: [1, 1, 2, 2])
    }

    static func paddingShapes() throws -> Outcome {
        let x = Tensor(shape: [1, 1, 8, 8], values: (0..<64).map { Float($0 % 7) })
        let (_, a) = try run("conv = Conv2d(1, 1, kernel_size=3, padding=1, stride=2, bias=False)\n", input: x, weights: ["conv.weight": [Float](repeating: 1, count: 9)])
        let (_, b) = try run("conv = Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4), bias=False)\n", input: x, weights: ["conv.weight": [Float](repeating: 1, count: 15)])
        let ok = a.shape == [1, 1, 4, 4] && b.shape == [1, 1, 2, 2]
        let text = "  8×8, 3×3 kernel, padding 1, stride 2 → \(a.shape[2])×\(a.shape[3])  (known 4×4: ⌊(8 + 2 − 3)/2⌋ + 1 = 4)\n"
            + "  8×8, (3, 5) kernel, padding (0, 1), stride (3, 4) → \(b.shape[2])×\(b.shape[3])  (known 2×2: ⌊(8 − 3)/3⌋ + 1 = 2, ⌊(8 + 2 − 5)/4⌋ + 1 = 2)\n"
        return Outcome(title: "output shapes with padding and stride", text: text, passed: ok)
    }

    static func twoInputChannels() throws -> Outcome {
        let x = Tensor(shape: [1, 2, 3, 3], values: X + X.map { $0 + 1 })
        let k = K + K.map { $0 + 1 }
        let (_, y) = try run("conv = Conv2d(2, 1, kernel_size=2, bias=False)\n", input: x, weights: ["conv.weight": k])
        return check("two input channels: the per-channel cross-correlations are summed", input: x, kernel: Tensor(shape: [1, 2, 2, 2], values: k),
                     output: y, expected: [56, 72, 104, 120], expectedShape: [1, 1, 2, 2])
    }

    static func severalOutputChannels() throws -> Outcome {
        let x = Tensor(shape: [1, 2, 3, 3], values: X + X.map { $0 + 1 })
        let k2 = K + K.map { $0 + 1 }
        let k = k2 + k2.map { $0 + 1 } + k2.map { $0 + 2 }       // stack(K, K + 1, K + 2)
        let (_, y) = try run("conv = Conv2d(2, 3, kernel_size=2, bias=False)\n", input: x, weights: ["conv.weight": k])
        return check("several output channels: kernels K, K + 1, K + 2 give three maps", input: x, kernel: Tensor(shape: [3, 2, 2, 2], values: k),
                     output: y, expected: [56, 72, 104, 120, 76, 100, 148, 172, 96, 128, 192, 224], expectedShape: [1, 3, 2, 2])
    }

    static func pointwiseIsMatrixProduct() throws -> Outcome {
        var s: UInt64 = 42
        func r() -> Float { s = s &* 6364136223846793005 &+ 1442695040888963407; return Float(s >> 40) / Float(1 << 24) - 0.5 }
        let ci = 3, co = 2, hw = 9
        let xv = (0..<(ci * hw)).map { _ in r() }, kv = (0..<(co * ci)).map { _ in r() }
        let x = Tensor(shape: [1, ci, 3, 3], values: xv)
        let (_, y) = try run("conv = Conv2d(3, 2, kernel_size=1, bias=False)\n", input: x, weights: ["conv.weight": kv])
        // Y[o, p] = Σ_i K[o, i]·X[i, p]: a [2×3]·[3×9] matrix product
        var maxErr: Float = 0
        for o in 0..<co { for p in 0..<hw {
            var acc: Float = 0
            for i in 0..<ci { acc += kv[o * ci + i] * xv[i * hw + p] }
            maxErr = max(maxErr, abs(acc - y.values[o * hw + p]))
        } }
        return Outcome(title: "1×1 convolution = matrix product over channels ([2×3] · [3×9])",
                       text: "  random X [1, 3, 3, 3], K [2, 3, 1, 1]: largest difference from K·X = \(maxErr)\n", passed: maxErr < 1e-5)
    }

    static func pooling() throws -> Outcome {
        let x = Tensor(shape: [1, 1, 3, 3], values: X)
        let (_, m) = try run("pool = MaxPool2d(kernel_size=2, stride=1)\n", input: x, weights: [:])
        let (_, a) = try run("pool = AvgPool2d(kernel_size=2, stride=1)\n", input: x, weights: [:])
        let mo = check("max pooling 2×2, stride 1", input: x, kernel: nil, output: m, expected: [4, 5, 7, 8], expectedShape: [1, 1, 2, 2])
        let ao = check("average pooling 2×2, stride 1", input: x, kernel: nil, output: a, expected: [2, 3, 5, 6], expectedShape: [1, 1, 2, 2])
        return Outcome(title: "pooling: max and average over 2×2 windows", text: mo.text + "  —\n" + ao.text.split(separator: "\n").dropFirst().map { $0 + "\n" }.joined(), passed: mo.passed && ao.passed)
    }

    /// Which input pixels influence one output unit: the input gradient's non-zero pattern.
    static func influence(_ engine: Engine, _ y: Tensor, unit: Int) throws -> [Bool] {
        let dy = Tensor(zeros: y.shape)
        dy.data[unit] = 1
        let dx = try engine.backward(dy)
        return dx.values.map { $0 != 0 }
    }

    static func twoStackedConvolutionsSeeEverything() throws -> Outcome {
        let x = Tensor(shape: [1, 1, 3, 3], values: X.map { $0 + 1 })
        let ones = [Float](repeating: 1, count: 4)
        let (engine, y) = try run("c1 = Conv2d(1, 1, kernel_size=2, bias=False)\nc2 = Conv2d(1, 1, kernel_size=2, bias=False)\n", input: x, weights: ["c1.weight": ones, "c2.weight": ones])
        let seen = try influence(engine, y, unit: 0)
        let a = try Analyzer.analyze(engine.graph)
        let rf = a.rows.last { $0.kind != .container }!.rf
        let text = "  3×3 input → 2×2 → 1×1; the single output's input gradient is non-zero at \(seen.filter { $0 }.count) of 9 pixels; analyzer: receptive field \(rf.size[0])×\(rf.size[1])\n"
        return Outcome(title: "receptive field: two stacked 2×2 convolutions", text: text, passed: y.shape == [1, 1, 1, 1] && seen.allSatisfy { $0 } && rf.size == [3, 3])
    }

    static func threeByThreeStack() throws -> Outcome {
        let x = Tensor(shape: [1, 1, 9, 9], values: (0..<81).map { Float($0 % 5 + 1) })
        let ones = [Float](repeating: 1, count: 9)
        let (engine, y) = try run("c1 = Conv2d(1, 1, 3, bias=False)\nc2 = Conv2d(1, 1, 3, bias=False)\nc3 = Conv2d(1, 1, 3, bias=False)\n", input: x,
                                  weights: ["c1.weight": ones, "c2.weight": ones, "c3.weight": ones])
        let seen = try influence(engine, y, unit: 4)      // the centre of the 3×3 output
        var rows = Set<Int>(), cols = Set<Int>()
        for (i, s) in seen.enumerated() where s { rows.insert(i / 9); cols.insert(i % 9) }
        // Weights for C channels in and out: three 3×3 layers vs one 7×7 layer.
        let c = 64
        let stack = try Analyzer.analyze(try GraphBuilder.build(try ZooParser.parse("model s\ninput 1 \(c) 9 9\na = Conv2d(\(c), \(c), 3, bias=False)\nb = Conv2d(\(c), \(c), 3, bias=False)\nc = Conv2d(\(c), \(c), 3, bias=False)\n", file: "stack")))
        let single = try Analyzer.analyze(try GraphBuilder.build(try ZooParser.parse("model s\ninput 1 \(c) 9 9\na = Conv2d(\(c), \(c), 7, bias=False)\n", file: "single")))
        let text = "  one output of three stacked 3×3 convolutions depends on a \(rows.count)×\(cols.count) input patch (known: 7×7)\n"
            + "  weights with C = \(c): 3·3·3·C² = \(stack.totals.params) (27·C²) vs one 7×7: \(single.totals.params) (49·C²)\n"
        let ok = rows.count == 7 && cols.count == 7 && stack.totals.params == 27 * c * c && single.totals.params == 49 * c * c
        return Outcome(title: "receptive field: three 3×3 convolutions see 7×7 with fewer weights", text: text, passed: ok)
    }

    /// [[a, b], [c, d]] per channel; channels separated by " | ".
    static func matrix(_ t: Tensor) -> String {
        let h = t.shape.count >= 2 ? t.shape[t.shape.count - 2] : 1
        let w = t.shape.last ?? 1
        let planes = t.count / max(h * w, 1)
        let v = t.values
        return (0..<planes).map { p in
            "[" + (0..<h).map { r in "[" + (0..<w).map { c in num(v[p * h * w + r * w + c]) }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
        }.joined(separator: " | ")
    }

    static func num(_ v: Float) -> String { v == v.rounded() && abs(v) < 1e7 ? String(Int(v)) : String(format: "%.4g", v) }
}
