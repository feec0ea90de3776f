import Foundation
import Testing
import ConvLensAnalysis
import ConvLensGraph
@testable import ConvLensExplain
import TestSupport

/// Oracle: the analyzer's numbers, and the arithmetic of the formulas themselves — every
/// `expression = value` that explain prints is evaluated here and must equal its value.
@Suite struct ExplainTests {
    /// Evaluates the formula notation explain prints: integers, + − · × /, ( ), ⌊ ⌋, ⌈ ⌉.
    struct Formula {
        var chars: [Character]
        var i = 0
        init(_ s: String) { chars = Array(s.filter { $0 != " " && $0 != "," }) }
        mutating func expr() -> Double {
            var v = term()
            while i < chars.count, chars[i] == "+" || chars[i] == "−" {
                let op = chars[i]; i += 1
                let t = term()
                v = op == "+" ? v + t : v - t
            }
            return v
        }
        mutating func term() -> Double {
            var v = factor()
            while i < chars.count, chars[i] == "·" || chars[i] == "×" || chars[i] == "/" {
                let op = chars[i]; i += 1
                let f = factor()
                v = op == "/" ? v / f : v * f
            }
            return v
        }
        mutating func factor() -> Double {
            let c = chars[i]
            if c == "(" { i += 1; let v = expr(); i += 1; return v }
            if c == "⌊" { i += 1; let v = expr(); i += 1; return floor(v) }
            if c == "⌈" { i += 1; let v = expr(); i += 1; return ceil(v) }
            var s = ""
            while i < chars.count, chars[i].isNumber { s.append(chars[i]); i += 1 }
            return Double(s)!
        }
    }

    /// Splits `…formula = value…` and checks the arithmetic; returns the value.
    func checked(_ text: String, _ context: String) -> Int? {
        guard let eq = text.range(of: " = ", options: .backwards) else { return nil }
        var lhs = String(text[..<eq.lowerBound])
        for word in [" outputs", " inputs", "a fully connected layer between the same shapes needs "] {
            lhs = lhs.replacingOccurrences(of: word, with: "")
        }
        if let colon = lhs.range(of: ": ", options: .backwards) { lhs = String(lhs[colon.upperBound...]) }
        let rhsText = text[eq.upperBound...].prefix { $0.isNumber || $0 == "," }.filter { $0 != "," }
        guard let rhs = Int(rhsText) else { Issue.record("no value in \(context): \(text)"); return nil }
        var f = Formula(lhs)
        let v = f.expr()
        #expect(v == Double(rhs), "\(context): \(text)")
        return rhs
    }

    @Test(arguments: Paths.registryModels)
    func everyNumberMatchesTheAnalyzerAndItsFormula(model: String) throws {
        let a = try Analyzer.analyze(try Registry.graph(model))
        let entries = try Explain.entries(a)
        #expect(entries.count == a.graph.nodes(training: false).count)
        for e in entries {
            let node = a.graph.nodes[e.node]
            #expect(node.name == e.name)
            let row = a.row(node: node.index)!
            for (label, text) in e.lines {
                switch label {
                case "output height": #expect(checked(text.components(separatedBy: " → ")[0], e.name).map { text.contains("→") ? node.outputShape[2] : $0 } == node.outputShape[2])
                case "output width": #expect(checked(text.components(separatedBy: " → ")[0], e.name).map { text.contains("→") ? node.outputShape[3] : $0 } == node.outputShape[3])
                case "parameters" where text.contains(" = "): #expect(checked(text.replacingOccurrences(of: "γ and β: ", with: ""), e.name) == row.params)
                case "MACs": #expect(checked(text, e.name) == row.macs)
                case "vs. linear": _ = checked(String(text.prefix { $0 != "(" }), e.name)
                case "concat": #expect(checked(text, e.name) == node.outputShape[1])
                case "output memory": #expect(text.hasSuffix("= \(Explain.num(row.outputBytes)) bytes"))
                case "receptive field": #expect(text.hasPrefix("\(row.rf.size[0])×\(row.rf.size[1]) input pixels, jump \(row.rf.jump[0])×\(row.rf.jump[1])"))
                default: break
                }
            }
        }
    }

    func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    @Test func alexnetFirstConvolutionReadsLikeTheTextbook() throws {
        let a = try Analyzer.analyze(try Registry.graph("alexnet"))
        let text = Explain.text(try Explain.entries(a, names: ["features.0"]))
        #expect(text.contains("output height    ⌊(224 + 2·2 − 11)/4⌋ + 1 = 55"))
        #expect(text.contains("parameters       64·3·11·11 + 64 = 23,296"))
        #expect(text.contains("MACs             64·55·55 outputs × 3·11·11 = 70,276,800"))
        #expect(text.contains("receptive field  11×11 input pixels, jump 4×4"))
    }

    @Test func ceilModeIsExplained() throws {
        let a = try Analyzer.analyze(try Registry.graph("googlenet"))
        let text = Explain.text(try Explain.entries(a, names: ["maxpool1"]))
        #expect(text.contains("⌈(112 + 2·0 − 3)/2⌉ + 1 = 56"))
    }

    @Test func unknownLayerIsAnError() throws {
        let a = try Analyzer.analyze(try Registry.graph("resnet18"))
        #expect(throws: ZooError.self) { try Explain.entries(a, names: ["layer9"]) }
        let block = try Explain.entries(a, names: ["layer1.0"])
        #expect(block.map(\.name) == ["layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu", "layer1.0.conv2", "layer1.0.bn2", "layer1.0.add", "layer1.0.relu"])
    }
}
