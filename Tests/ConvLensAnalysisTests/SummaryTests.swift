import ConvLensAnalysis
import ConvLensGraph
import TestSupport
import Testing

/// Oracle: torchinfo.summary(model, input_size, depth=3) as printed (reference torchinfo.txt).
@Suite struct SummaryTests {
    @Test(arguments: Paths.referenceModels)
    func matchesTorchinfoByteForByte(_ model: String) throws {
        let expected = try Paths.referenceText(model, "torchinfo.txt")
        let got = Summary(try Analyzer.analyze(try Registry.graph(model, input: Paths.referenceInput(model)))).text(depth: 3)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let g = got.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, (a, b)) in zip(e, g).enumerated() where a != b {
            Issue.record("\(model) line \(i + 1):\n  torchinfo: \(a)\n  convlens:  \(b)")
            break
        }
        #expect(e.count == g.count)
        #expect(got == expected)
    }

    @Test func totalMultAddsEqualsTheConvention() throws {
        for model in Paths.referenceModels {
            let a = try Analyzer.analyze(try Registry.graph(model, input: Paths.referenceInput(model)), convention: .torchinfo)
            #expect(Summary(a).totalMultAdds == a.totals.flops)
        }
    }

    @Test func shallowerDepthShowsContainerTotals() throws {
        let text = Summary(try Analyzer.analyze(try Registry.graph("resnet18"))).text(depth: 1)
        #expect(text.contains("├─Sequential: 1-5                        [1, 64, 56, 56]           147,968"))
        #expect(!text.contains("BasicBlock"))
    }
}
