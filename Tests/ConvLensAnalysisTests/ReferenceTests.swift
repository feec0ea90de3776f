import ConvLensAnalysis
import ConvLensGraph
import TestSupport
import Testing

/// Oracle: PyTorch's per-layer table and totals (../shared/reference/models/MODEL).
@Suite struct ReferenceTests {
    @Test(arguments: Paths.referenceModels)
    func moduleCallsMatchPyTorch(_ model: String) throws {
        let a = try Analyzer.analyze(try Registry.graph(model, input: Paths.referenceInput(model)))
        let ref = try AnalysisReference.layers(model)
        let calls = a.rows.filter { $0.kind == .module }
        #expect(calls.count == ref.count)
        for (row, r) in zip(calls, ref) {
            #expect(row.name == r.name)
            #expect(row.type == r.type, "\(r.name)")
            #expect(row.outputShape == r.outputShape, "\(r.name)")
            #expect(row.inputShapes.first == r.inputShape, "\(r.name)")
            #expect(row.params == r.params, "\(r.name)")
            #expect(row.buffers == r.buffers, "\(r.name)")
            #expect(row.macs == r.macs, "\(r.name)")
        }
    }

    @Test(arguments: Paths.referenceModels)
    func totalsMatchPyTorch(_ model: String) throws {
        let a = try Analyzer.analyze(try Registry.graph(model, input: Paths.referenceInput(model)))
        let t = try AnalysisReference.totals(model)
        #expect(a.inputShape == t.inputShape)
        #expect(a.totals.params == t.params)
        #expect(a.totals.trainableParams == t.trainable)
        #expect(a.totals.buffers == t.buffers)
        #expect(a.totals.macs == t.ownMacs)
    }

    @Test(arguments: Paths.referenceModels)
    func conventionsReproduceEachTool(_ model: String) throws {
        let g = try Registry.graph(model, input: Paths.referenceInput(model))
        let t = try AnalysisReference.totals(model)
        for c in FlopConvention.allCases where c != .convlens {
            let a = try Analyzer.analyze(g, convention: c)
            #expect(a.totals.flops == t.tools[c.rawValue], "\(model) \(c.rawValue)")
        }
    }
}
