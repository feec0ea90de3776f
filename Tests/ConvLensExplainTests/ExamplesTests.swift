import Testing
@testable import ConvLensExplain

/// Oracle: the known answers of the course notes' worked examples, computed by the engine's kernels.
@Suite struct ExamplesTests {
    @Test func everyExampleAgreesWithItsKnownAnswer() {
        let report = Examples.runAll()
        #expect(report.outcomes.count == 9)
        for o in report.outcomes { #expect(o.passed, "\(o.title)\n\(o.text)") }
        #expect(report.text.contains("output [[19, 25], [37, 43]]"))
        #expect(report.text.contains("output [[0, 8], [6, 8]]"))
        #expect(report.text.contains("output [[56, 72], [104, 120]]"))
        #expect(report.text.contains("output [[4, 5], [7, 8]]"))
        #expect(report.text.contains("output [[2, 3], [5, 6]]"))
    }

    @Test func aWrongAnswerIsCaught() throws {
        let x = ConvLensEngine.Tensor(shape: [1, 1, 1, 2], values: [1, 2])
        let o = Examples.check("deliberately wrong", input: x, kernel: nil, output: x, expected: [1, 3], expectedShape: [1, 1, 1, 2])
        #expect(!o.passed)
    }
}
import ConvLensEngine
