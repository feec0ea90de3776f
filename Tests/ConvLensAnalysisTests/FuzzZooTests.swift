import ConvLensAnalysis
import ConvLensGraph
import Foundation
import Testing
import TestSupport

/// Fuzzing the zoo parser, the graph builder and every static view on mutated registry files,
/// extreme inputs and arguments: each case is accepted (and then printed, analysed in both modes
/// and all conventions, summarised, explained) or refused with a one-line ZooError that points at
/// the file. A trap or a hang fails the run; `.ci/fuzz` runs longer campaigns.
@Suite struct FuzzZooTests {
    static let models = ["convnet", "lenet5", "alexnet", "resnet18", "googlenet", "squeezenet1_1", "mobilenet_v3_small",
                         "shufflenet_v2_x0_5", "mnasnet0_5", "efficientnet_b0", "regnet_y_400mf", "convnext_tiny", "densenet121"]
    static let tokens = ["Sequential(", "Sequential(\n", "end\n", "block B(a, b)\n", "<- $in", "<- a, b", "(", ")", ",", "=", "\"", "#",
                         "torch.cat(1)", "add", "mul", "F.relu", "param n = ", "input ", "model ", "Conv2d(", "kernel_size=",
                         "padding=", "stride=", "dilation=", "groups=", "Linear(", "BatchNorm2d(", "MaxPool2d(", "AdaptiveAvgPool2d(",
                         "torch.flatten(1)", "Parameter(", "init Conv2d.weight = ", "train ", "meta ", " if ", "not ", "True", "False",
                         "None", "*", "//", "+", "-", "(1, 1)", "((1, 1), 1)", "[", "]", "\\", "\t", "\u{00e9}", "\u{0}"]

    func exercise(_ g: ModelGraph) throws(ZooError) {
        _ = TorchRepr.render(g)
        for mode in [AnalysisMode.eval, .train] where mode == .eval || g.trainingProblem == nil {
            for convention in FlopConvention.allCases {
                let a = try Analyzer.analyze(g, mode: mode, convention: convention)
                if convention == .convlens {
                    _ = a.json(); _ = a.text()
                    _ = Summary(a).text(depth: 3, columns: SummaryColumn.allCases)
                }
            }
        }
        for n in g.nodes { _ = n.spec.formulas(n.call(training: false)) }
    }

    @Test func mutatedZooFiles() {
        var f = Fuzz(target: "zoo")
        var accepted = 0, refused = 0
        for _ in 0..<Fuzz.iterations(250) {
            let name = f.pick(f.below(3) == 0 ? Self.models : Array(Self.models.prefix(4)))
            let text = f.mutate(text: Registry.embeddedText(name)!, tokens: Self.tokens)
            var input: [Int]? = nil
            if f.below(4) == 0 { input = (0..<4).map { _ in f.below(3) == 0 ? Int(f.pick(Fuzz.interestingNumbers)) ?? 1 : 1 + f.below(300) } }
            var overrides: [(String, ZooValue)] = []
            if f.below(4) == 0 { overrides = [("num_classes", .int(Int(f.pick(Fuzz.interestingNumbers)) ?? 7))] }
            f.record(Array(text.utf8) + Array("\n# input \(input.map { "\($0)" } ?? "-") overrides \(overrides)\n".utf8))
            do {
                let file = try ZooParser.parse(text, file: "fuzz.zoo")
                let g = try GraphBuilder.build(file, overrides: overrides, input: input)
                try exercise(g)
                accepted += 1
            } catch {
                refused += 1
                #expect(!error.description.contains("\n"), "\(error.description)")
                #expect(error.description.hasPrefix("fuzz.zoo:") || error.location == nil && error.description.contains("argument"),
                        "\(error.description)")
            }
        }
        #expect(accepted > 0 && refused > 0, "accepted \(accepted), refused \(refused)")
    }
}
