import Foundation
import Testing
import ConvLensGraph
import TestSupport

/// `init` lines and `train aux_loss_weight`: what they parse to, and each mistake as one
/// `file:line:column: error: init TARGET: message` line.
@Suite struct InitRuleTests {
    static let header = "model m\ninput 1 3 8 8\nparam num_classes = 10\nparam zero = false\n"   // 4 lines
    static let body = "conv = Conv2d(3, 4, 3)\nbn = BatchNorm2d(4)\nflat = torch.flatten(1)\nfc = Linear(144, num_classes)\n"

    func parse(_ lines: String) throws -> ZooFile { try ZooParser.parse(Self.header + lines + Self.body, file: "user.zoo") }

    /// The error of parsing, building and resolving `lines`, or nil.
    func failure(_ lines: String) -> ZooError? {
        do { _ = try GraphBuilder.build(try ZooParser.parse(Self.header + lines + Self.body, file: "user.zoo")).initialisation(); return nil }
        catch let e as ZooError { return e } catch { return nil }
    }

    func check(_ lines: String, _ kind: ZooError.Kind, line: Int = 5, column: Int, module: String?, mentions: String,
               sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        guard let e = failure(lines) else { Issue.record("no error", sourceLocation: sourceLocation); return }
        #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
        #expect(e.modulePath == module, "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.contains(mentions), "\(e)", sourceLocation: sourceLocation)
        #expect(!e.description.contains("\n"), sourceLocation: sourceLocation)
        #expect(e.description.hasPrefix("user.zoo:\(line):\(column): error: "), "\(e)", sourceLocation: sourceLocation)
    }

    @Test func rulesParse() throws {
        let f = try parse("""
        init Conv2d.weight = kaiming_normal(mode="fan_out", nonlinearity="relu")
        init Conv2d.bias = zeros
        init BatchNorm2d.weight = ones()
        init Linear.weight = uniform(-1.0 / sqrt(fan_out), 1.0 / math.sqrt(fan_out))
        init "fc".bias = constant(0.5) if not zero
        init "*.weight" = trunc_normal(std=0.02)

        """)
        #expect(f.inits.count == 6)
        #expect(f.inits[0].target == .kind("Conv2d", parameter: "weight"))
        #expect(f.inits[0].function.name == "kaiming_normal")
        #expect(f.inits[0].function.arguments["mode"] == .string("fan_out"))
        #expect(f.inits[0].function.arguments["a"] == .int(0))                 // torch's default filled in
        #expect(f.inits[2].function.name == "ones")
        #expect(f.inits[4].target == .keys(pattern: "fc.bias"))
        #expect(f.inits[4].targetText == "\"fc\".bias")
        #expect(f.inits[4].condition?.negated == true)
        #expect(f.inits[5].target == .keys(pattern: "*.weight"))
        #expect(f.inits[0].location.line == 5)
    }

    @Test func resolution() throws {
        let g = try GraphBuilder.build(try parse("""
        init Conv2d.weight = normal(0, 0.1)
        init Linear.weight = uniform(-1.0 / sqrt(fan_out), 1.0 / sqrt(fan_out))
        init "conv".weight = constant(2)
        init "fc".bias = constant(num_classes / 4) if not zero

        """))
        let plan = try g.initialisation()
        func draw(_ k: String) -> InitDraw? { plan.first { $0.entry.key == k }?.draw }
        #expect(draw("conv.weight") == .constant(2))                         // path beats kind
        #expect(draw("conv.bias") == .uniform(low: -1 / 27.0.squareRoot(), high: 1 / 27.0.squareRoot()))   // torch default, fan_in 3·3·3
        #expect(draw("bn.weight") == .constant(1))
        #expect(draw("bn.bias") == .constant(0))
        #expect(draw("fc.weight") == .uniform(low: -1 / 10.0.squareRoot(), high: 1 / 10.0.squareRoot()))  // fan_out = out_features
        #expect(draw("fc.bias") == .constant(2.5))
        #expect(plan.first { $0.entry.key == "conv.weight" }?.rule?.targetText == "\"conv\".weight")
        #expect(plan.first { $0.entry.key == "bn.weight" }?.rule == nil)
        // The later of two matching path rules wins; `default` falls back to torch's.
        let later = try GraphBuilder.build(try parse("init \"*\".weight = zeros\ninit \"c*\".weight = ones\ninit \"fc\".weight = default\n")).initialisation()
        #expect(later.first { $0.entry.key == "conv.weight" }?.draw == .constant(1))
        #expect(later.first { $0.entry.key == "bn.weight" }?.draw == .constant(0))
        guard case .uniform(let lo, let hi)? = later.first(where: { $0.entry.key == "fc.weight" })?.draw else { Issue.record("fc.weight"); return }
        #expect(abs(lo + 1.0 / 12) < 1e-15 && abs(hi - 1.0 / 12) < 1e-15)     // kaiming_uniform(a=√5): √3·√(1/3)/√144
    }

    @Test func malformedRules() {
        check("init Conv3d.weight = zeros\n", .unknownLayer, column: 6, module: "init Conv3d.weight", mentions: "unknown layer kind 'Conv3d'")
        check("init BatchNorm2d.gamma = ones\n", .unknownParameter, column: 6, module: "init BatchNorm2d.gamma",
              mentions: "BatchNorm2d has no parameter 'gamma' (its parameters: weight, bias)")
        check("init ReLU.weight = ones\n", .unknownParameter, column: 6, module: "init ReLU.weight", mentions: "ReLU has no parameters")
        check("init Conv2d.weight = gaussian(0, 1)\n", .unknownLayer, column: 22, module: "init Conv2d.weight", mentions: "unknown init function 'gaussian'")
        check("init Conv2d.weight = normal(0, 1, 2)\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "normal takes at most 2 positional arguments")
        check("init Conv2d.weight = normal(sd=1)\n", .unknownArgument, column: 22, module: "init Conv2d.weight", mentions: "normal has no argument 'sd' (it takes: mean, std)")
        check("init Conv2d.weight = constant()\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "missing required argument 'val'")
        check("init Conv2d.weight = kaiming_normal(mode=\"fan_avg\")\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "'mode' must be \"fan_in\" or \"fan_out\"")
        check("init Conv2d.weight = kaiming_normal(nonlinearity=\"swish\")\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "one of calculate_gain's names")
        check("init Conv2d.weight = normal(std=\"big\")\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "'std' must be a number")
        check("init Conv2d.weight = normal(0, 1) extra\n", .syntax, column: 35, module: nil, mentions: "unexpected 'extra'")
        check("init weight = zeros\n", .syntax, column: 6, module: nil, mentions: "an init target is KIND.PARAMETER")
        check("init Conv2d.weight zeros\n", .syntax, column: 20, module: nil, mentions: "expected '='")
        check("init Conv2d.weight = zeros\ninit Conv2d.weight = ones\n", .initRule, line: 6, column: 6, module: "init Conv2d.weight", mentions: "stated twice (first on line 5)")
        check("train init = \"normal(0, 0.01)\"\n", .syntax, column: 7, module: nil, mentions: "'train init' is gone")
        check("train aux_loss_weight = \"big\"\n", .badArgument, column: 7, module: nil, mentions: "aux_loss_weight must be a number ≥ 0")
    }

    /// Mistakes only the model shows: they surface when the rules are resolved for it.
    @Test func rulesThatDoNotFitTheModel() {
        check("init \"fcc\".weight = zeros\n", .initRule, column: 6, module: "init \"fcc\".weight", mentions: "matches no parameter of m")
        check("init Conv2d.bias = kaiming_normal()\n", .initRule, column: 20, module: "init Conv2d.bias",
              mentions: "kaiming_normal needs a tensor of 2 or more dimensions")
        check("init Conv2d.weight = normal(0, scale)\n", .unknownParameter, column: 22, module: "init Conv2d.weight", mentions: "unknown name 'scale'")
        check("init Conv2d.weight = normal(0, -1)\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "normal needs std ≥ 0")
        check("init Conv2d.weight = uniform(1, 0)\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "uniform needs a ≤ b")
        check("init Conv2d.weight = trunc_normal(a=2, b=-2)\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "trunc_normal needs a < b")
        check("init Conv2d.weight = normal(0, sqrt(-1))\n", .badArgument, column: 22, module: "init Conv2d.weight", mentions: "math domain error")
        check("init \"fc\".weight = zeros if nothing\n", .unknownParameter, column: 29, module: "init \"fc\".weight", mentions: "unknown name 'nothing' in condition")
        check("init \"fc\".weight = zeros if num_classes\n", .badArgument, column: 29, module: "init \"fc\".weight", mentions: "must be a bool")
        // A path rule whose condition is off may match nothing.
        #expect(failure("init \"fcc\".weight = zeros if zero\n") == nil)
    }

    @Test func auxLossWeightLine() throws {
        #expect(try parse("train aux_loss_weight = 0.4\n").auxLossWeight == 0.4)
        #expect(try parse("train aux_loss_weight = 1\n").auxLossWeight == 1)
        #expect(try parse("").auxLossWeight == ZooFile.defaultAuxLossWeight)
    }

    @Test func sqrtInValues() throws {
        let f = try ZooParser.parse("model m\ninput 1 3 8 8\nparam k = 4\nc = Conv2d(3, 4, kernel_size=1, padding=0)\nd = Dropout(p=1 / sqrt(k))\n", file: "s.zoo")
        let g = try GraphBuilder.build(f)
        #expect(TorchRepr.render(g).contains("Dropout(p=0.5"))
    }
}
