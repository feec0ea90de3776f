import ConvLensAnalysis
import ConvLensGraph
import Testing

/// GroupNorm, the kind added to show what adding one takes. Oracles: torch 2.15's print and
/// parameter names, and each counter's total measured on
/// Sequential(Conv2d(4, 8, 3, padding=1, bias=False), GroupNorm(2, 8[, affine=False])) at 1×4×6×6
/// (torchinfo 1.8, fvcore 0.1.5, thop, ptflops; conv MACs 10,368, the norm's input 288 elements).
@Suite struct GroupNormTests {
    static func graph(affine: Bool) throws -> ModelGraph {
        let text = """
        model gn class Sequential
        input 1 4 6 6
        0 = Conv2d(4, 8, 3, padding=1, bias=False)
        1 = GroupNorm(2, 8\(affine ? "" : ", affine=False"))
        """
        return try GraphBuilder.build(try ZooParser.parse(text, file: "gn.zoo"))
    }

    @Test func printsAndCountsAsTorch() throws {
        let g = try Self.graph(affine: true)
        #expect(TorchRepr.render(g).contains("(1): GroupNorm(2, 8, eps=1e-05, affine=True, bias=True)"))
        #expect(g.stateDict().map(\.key) == ["0.weight", "1.weight", "1.bias"])
        let noAffine = try Self.graph(affine: false)
        #expect(TorchRepr.render(noAffine).contains("(1): GroupNorm(2, 8, eps=1e-05, affine=False, bias=False)"))
        #expect(noAffine.stateDict().map(\.key) == ["0.weight"])
    }

    @Test(arguments: [(true, [FlopConvention.fvcore: 11808, .thop: 10368, .ptflops: 10944, .torchinfo: 10384]),
                      (false, [FlopConvention.fvcore: 11520, .thop: 10368, .ptflops: 10656, .torchinfo: 10368])])
    func conventionsMatchTheMeasuredTools(affine: Bool, expected: [FlopConvention: Int]) throws {
        let g = try Self.graph(affine: affine)
        for (c, total) in expected {
            #expect(try Analyzer.analyze(g, convention: c).totals.flops == total, "\(c.rawValue), affine \(affine)")
        }
    }

    @Test func malformedUsesAreOneLineErrors() throws {
        let bad = "model gn\ninput 1 4 6 6\n0 = Conv2d(4, 6, 1)\n1 = GroupNorm(4, 6)\n"
        #expect(throws: ZooError.self) { _ = try GraphBuilder.build(try ZooParser.parse(bad, file: "gn.zoo")) }
        do { _ = try GraphBuilder.build(try ZooParser.parse(bad, file: "gn.zoo")) } catch {
            #expect(error.description.hasPrefix("gn.zoo:4:5: error: 1: GroupNorm num_channels (6) must be divisible by num_groups (4)"), "\(error)")
        }
        let wrong = "model gn\ninput 1 4 6 6\n0 = GroupNorm(2, 8)\n"
        do { _ = try GraphBuilder.build(try ZooParser.parse(wrong, file: "gn.zoo")); Issue.record("accepted") } catch {
            #expect(error.description.contains("GroupNorm expects 8 channels but receives 4"), "\(error)")
        }
    }
}
