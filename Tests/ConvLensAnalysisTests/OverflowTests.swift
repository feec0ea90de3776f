import ConvLensAnalysis
import ConvLensGraph
import Foundation
import Testing
import TestSupport

/// Extreme but well-formed numbers: every one is a one-line file:line:column error naming the layer
/// (or --input), never an arithmetic-overflow trap. Oracle: the limits in `Checked`, and exact
/// counts recomputed by hand where a huge model is still accepted.
@Suite struct OverflowTests {
    func failure(_ text: String, input: [Int]? = nil, overrides: [(String, ZooValue)] = []) -> ZooError? {
        do {
            let g = try GraphBuilder.build(try ZooParser.parse(text, file: "big.zoo"), overrides: overrides, input: input)
            _ = try Analyzer.analyze(g, mode: .train)
            _ = try Analyzer.analyze(g, mode: .eval, convention: .ptflops)
            return nil
        } catch { return error }
    }

    func check(_ text: String, line: Int, module: String?, mentions: String, input: [Int]? = nil, overrides: [(String, ZooValue)] = [],
               sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        guard let e = failure(text, input: input, overrides: overrides) else { Issue.record("accepted", sourceLocation: sourceLocation); return }
        #expect(e.location?.line == line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.modulePath == module, "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.contains(mentions), "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.hasPrefix("big.zoo:\(line):"), "\(e)", sourceLocation: sourceLocation)
        #expect(!e.description.contains("\n"), sourceLocation: sourceLocation)
    }

    static let head = "model big class Big\ninput 1 3 8 8\nparam n = 10\n"

    @Test func layerArgumentsNear2to63() {
        for arg in ["padding=(4611686018427387904, 1)", "stride=9223372036854775807", "dilation=(1, 4611686018427387904)"] {
            check(Self.head + "conv = Conv2d(3, 8, kernel_size=3, \(arg))\n", line: 4, module: "conv", mentions: "beyond the largest size ConvLens handles")
        }
        check(Self.head + "conv = Conv2d(3, 9223372036854775807, kernel_size=3)\n", line: 4, module: "conv", mentions: "'out_channels' is 9223372036854775807")
        check(Self.head + "conv = Conv2d(3, 8, kernel_size=(2147483647, 2147483647), padding=1073741823)\n", line: 4, module: "conv",
              mentions: "Conv2d weight [8, 3, 2147483647, 2147483647] would hold")
        // --arg num_classes=Int.max, through the Linear it sizes
        check(Self.head + "f = torch.flatten(1)\nfc = Linear(192, n)\n", line: 5, module: "fc", mentions: "'out_features' is 9223372036854775807",
              overrides: [("n", .int(Int.max))])
        // A dilated kernel whose span d·(k−1)+1 passed 2^63 (stride and dilation at the limit are fine: the span is 2^62)
        check(Self.head + "conv = Conv2d(3, 8, kernel_size=(2147483647, 1), dilation=(2147483647, 1))\n", line: 4, module: "conv", mentions: "is larger than its padded input")
    }

    @Test func inputsNear2to63() {
        for input in [[Int.max, 3, 8, 8], [1, 3, 1 << 62, 1 << 62], [1 << 21, 1 << 21, 1, 1]] {
            check(Self.head + "r = ReLU()\n", line: 2, module: nil, mentions: "more than ConvLens handles (2^40", input: input)
        }
        #expect(throws: ZooError.self) { try Registry.parseShape("9223372036854775807x3x224x224") }
        do { _ = try Registry.parseShape("9223372036854775807x3x224x224") } catch {
            #expect(error.description.contains("--input [9223372036854775807, 3, 224, 224] would hold"), "\(error)")
        }
    }

    @Test func concatenationWhoseChannelSumOverflows() {
        // Four inputs of 2^39 elements each: the output passes 2^40.
        check("model c class C\ninput 1 549755813888 1 1\na = Identity <- $in\nb = torch.cat(1) <- a, a, a, a\n", line: 4, module: "b", mentions: "cat's output [1, 2199023255552, 1, 1]")
        #expect(failure("model c class C\ninput 1 549755813888 1 1\na = Identity <- $in\nb = torch.cat(1) <- a, a\n") == nil)
    }

    @Test func macsThatPass2to62() {
        // 2^40 outputs × 2049² weights per output: each tensor fits, the MAC count does not.
        check("model m class M\ninput 1 1 1048576 1048576\nconv = Conv2d(1, 1, kernel_size=2049, padding=1024)\n", line: 3, module: "conv",
              mentions: "operation count for input [1, 1, 1048576, 1048576] overflows")
        // Just below: accepted, and the MACs are exact (2^40 × 1023²).
        let g = try? GraphBuilder.build(try ZooParser.parse("model m class M\ninput 1 1 1048576 1048576\nconv = Conv2d(1, 1, kernel_size=1023, padding=511)\n", file: "ok.zoo"))
        let a = g.flatMap { try? Analyzer.analyze($0) }
        #expect(a?.totals.macs == (1 << 40) * 1023 * 1023)
    }

    @Test func receptiveFieldJumpOverflow() {
        let convs = (1...4).map { "c\($0) = Conv2d(1, 1, kernel_size=1, stride=2147483647)\n" }.joined()
        check("model s class S\ninput 1 1 8 8\n" + convs, line: 4, module: "c2", mentions: "receptive field passes 2^61")
    }

    @Test func adaptiveBinsInClosedForm() {
        for n in 1...40 {
            for o in 1...40 {
                let bins = AdaptiveAvgPool2d.bins(input: n, output: o)
                #expect(AdaptiveAvgPool2d.binWidthSum(input: n, output: o) == bins.reduce(0) { $0 + $1.1 - $1.0 }, "n \(n) o \(o)")
                #expect(AdaptiveAvgPool2d.maxBinWidth(input: n, output: o) == bins.map { $0.1 - $0.0 }.max(), "n \(n) o \(o)")
            }
        }
        // i·n past 2^63 (full-width arithmetic): the last bin still ends at n.
        let last = AdaptiveAvgPool2d.lazyBins(input: 1 << 40, output: 2147483647).last
        #expect(last?.1 == 1 << 40)
        // A 2^31-bin axis is analysed without building its bins.
        #expect(failure("model p class P\ninput 1 1 8 8\np = AdaptiveAvgPool2d(output_size=(2147483647, 1))\n") == nil)
    }

    /// Through the binary: one line on stderr, exit 1, for every command that builds a graph.
    @Test func commandLineExtremes() throws {
        let cases: [[String]] = [
            ["analyze", "convnet", "--input", "9223372036854775807x1x28x28"],
            ["summary", "convnet", "--input", "1x1x9223372036854775807x28"],
            ["print", "convnet", "--arg", "num_classes=9223372036854775807"],
            ["explain", "convnet", "linear_1", "--arg", "num_classes=9223372036854775807"],
            ["diagram", "convnet", "-o", "/tmp/convlens-overflow-never.dot", "--input", "4611686018427387904x1x28x28"],
            ["verify", "convnet", "--input", "1x1x3037000500x3037000500"],
            ["run", "convnet", "--init", "hash", "--input", "/nonexistent.safetensors", "--output", "/tmp/convlens-overflow-never.safetensors", "--arg", "num_classes=9223372036854775807"],
        ]
        for c in cases {
            let r = try runConvLens(c)
            #expect(r.status == 1, "\(c): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("convlens: "), "\(c): \(r.stderr)")
            #expect(!r.stderr.contains("crash") && !r.stderr.contains("overflow ***"), "\(c)")
        }
    }
}
