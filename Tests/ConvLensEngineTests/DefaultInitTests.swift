import Foundation
import Testing
import ConvLensGraph
import ConvLensEngine
import TestSupport

/// Oracle: torchvision 0.29's initialisation code (`_initialize_weights` / `__init__` loops in
/// torchvision/models/*.py) and torch.nn.init's formulas, transcribed here independently of the
/// zoo files' `init` lines: `--init default`'s tensors must have each rule's mean, standard
/// deviation, bounds and constants. One builder per registry family.
@Suite struct DefaultInitTests {
    /// What torchvision's constructor leaves in a tensor.
    enum Expect: CustomStringConvertible {
        case constant(Double)
        case normal(std: Double)
        case uniform(bound: Double)
        case truncNormal(std: Double, a: Double, b: Double)
        var description: String {
            switch self {
            case .constant(let c): return "constant \(c)"
            case .normal(let s): return "N(0, \(s))"
            case .uniform(let b): return "U(±\(b))"
            case .truncNormal(let s, let a, let b): return "truncN(0, \(s), [\(a), \(b)])"
            }
        }
    }

    /// torch.nn.init._calculate_fan_in_and_fan_out.
    static func fanIn(_ s: [Int]) -> Double { Double(s[1] * s.dropFirst(2).reduce(1, *)) }
    static func fanOut(_ s: [Int]) -> Double { Double(s[0] * s.dropFirst(2).reduce(1, *)) }

    /// One tensor as torchvision initialises it. `cls`: its module's class; `weight`: its module's
    /// weight shape (for a bias's torch default, bound 1/√fan_in of the weight).
    static func expected(_ model: String, key: String, local: String, cls: String, shape: [Int], weight: [Int]?) -> Expect {
        let isWeight = local == "weight"
        // torch's layer defaults (reset_parameters): Conv2d/Linear kaiming_uniform_(a=√5) → U(±1/√fan_in),
        // bias U(±1/√fan_in of the weight); norms weight 1, bias 0.
        func torchDefault() -> Expect {
            switch cls {
            case "Conv2d", "Linear": return .uniform(bound: 1 / fanIn(isWeight ? shape : weight!).squareRoot())
            default: return .constant(isWeight ? 1 : 0)
            }
        }
        let kaimingFanOutRelu = Expect.normal(std: (2 / fanOut(shape)).squareRoot())   // gain √2 / √fan_out
        let norm = ["BatchNorm2d", "GroupNorm"].contains(cls)
        switch model {
        case "resnet18", "resnext50_32x4d", "wide_resnet50_2":
            if cls == "Conv2d" { return kaimingFanOutRelu }
            return torchDefault()
        case "vgg11_bn":
            if cls == "Conv2d" { return isWeight ? kaimingFanOutRelu : .constant(0) }
            if cls == "Linear" { return isWeight ? .normal(std: 0.01) : .constant(0) }
            return torchDefault()
        case "squeezenet1_0":
            if key == "classifier.1.weight" { return .normal(std: 0.01) }                 // final_conv
            if cls == "Conv2d" { return isWeight ? .uniform(bound: 2.0.squareRoot() * (3 / fanIn(shape)).squareRoot()) : .constant(0) }
            return torchDefault()
        case "densenet121":
            if cls == "Conv2d" { return .normal(std: (2 / fanIn(shape)).squareRoot()) }   // kaiming_normal_(), fan_in
            if cls == "Linear" && !isWeight { return .constant(0) }
            return torchDefault()
        case "googlenet":
            if (cls == "Conv2d" || cls == "Linear") && isWeight { return .truncNormal(std: 0.01, a: -2, b: 2) }
            return torchDefault()
        case "inception_v3":
            if key == "AuxLogits.fc.weight" { return .truncNormal(std: 0.001, a: -2, b: 2) }
            if (cls == "Conv2d" || cls == "Linear") && isWeight { return .truncNormal(std: 0.1, a: -2, b: 2) }
            return torchDefault()
        case "mnasnet0_5":
            if cls == "Conv2d" { return isWeight ? kaimingFanOutRelu : .constant(0) }
            // kaiming_uniform_(mode="fan_out", nonlinearity="sigmoid"): gain 1, bound √3 / √fan_out
            if cls == "Linear" { return isWeight ? .uniform(bound: (3 / fanOut(shape)).squareRoot()) : .constant(0) }
            return torchDefault()
        case "mobilenet_v2", "mobilenet_v3_small":
            if cls == "Conv2d" { return isWeight ? kaimingFanOutRelu : .constant(0) }      // leaky_relu(a=0) gain = √2
            if cls == "Linear" { return isWeight ? .normal(std: 0.01) : .constant(0) }
            if norm { return .constant(isWeight ? 1 : 0) }
            return torchDefault()
        case "efficientnet_b0", "efficientnet_v2_s":
            if cls == "Conv2d" { return isWeight ? kaimingFanOutRelu : .constant(0) }
            if cls == "Linear" { return isWeight ? .uniform(bound: 1 / Double(shape[0]).squareRoot()) : .constant(0) }  // 1/√out_features
            return torchDefault()
        case "regnet_x_400mf", "regnet_y_400mf":
            if cls == "Conv2d" { return isWeight ? .normal(std: (2 / fanOut(shape)).squareRoot()) : torchDefault() }
            if cls == "Linear" { return isWeight ? .normal(std: 0.01) : .constant(0) }
            return torchDefault()
        case "convnext_tiny":
            if local == "layer_scale" { return .constant(1e-6) }
            if cls == "Conv2d" || cls == "Linear" { return isWeight ? .truncNormal(std: 0.02, a: -2, b: 2) : .constant(0) }
            return torchDefault()
        case "convnet":
            if cls == "Conv2d" || cls == "Linear" { return isWeight ? .normal(std: 0.01) : .constant(0) }
            return torchDefault()
        default:                                                            // alexnet, lenet5, shufflenet: no init code
            return torchDefault()
        }
    }

    static let families = ["resnet18", "resnext50_32x4d", "wide_resnet50_2", "vgg11_bn", "alexnet", "squeezenet1_0", "densenet121",
                           "googlenet", "inception_v3", "shufflenet_v2_x0_5", "mnasnet0_5", "mobilenet_v2", "mobilenet_v3_small",
                           "efficientnet_b0", "efficientnet_v2_s", "regnet_x_400mf", "regnet_y_400mf", "convnext_tiny", "lenet5", "convnet"]

    /// Checks one tensor's values against `e`; returns a failure message or nil.
    static func check(_ v: [Float], _ e: Expect) -> String? {
        let n = Double(v.count)
        let mean = v.reduce(0.0) { $0 + Double($1) } / n
        let sd = (v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
        func moments(std: Double) -> String? {
            if abs(mean) > 5 * std / n.squareRoot() + 1e-12 { return "mean \(mean) is more than 5 standard errors from 0" }
            if v.count >= 100, abs(sd / std - 1) > max(0.03, 5 / (2 * n).squareRoot()) { return "std \(sd), expected \(std)" }
            return nil
        }
        switch e {
        case .constant(let c):
            return v.allSatisfy { $0 == Float(c) } ? nil : "not all \(Float(c)): mean \(mean), std \(sd)"
        case .normal(let std):
            if let m = moments(std: std) { return m }
            // A normal's tail: about 8% of draws lie beyond 1.75σ, where a uniform of the same σ has none.
            if v.count >= 1000, Double(v.filter { abs(Double($0)) > 1.75 * std }.count) / n < 0.05 { return "no normal tail" }
            return nil
        case .uniform(let bound):
            if let x = v.first(where: { abs(Double($0)) > bound * (1 + 1e-6) }) { return "\(x) outside ±\(bound)" }
            return moments(std: bound / 3.0.squareRoot())
        case .truncNormal(let std, let a, let b):
            if let x = v.first(where: { Double($0) < a || Double($0) > b }) { return "\(x) outside [\(a), \(b)]" }
            return moments(std: std)   // the registry's bounds are ≥ 20σ away: the truncation leaves σ
        }
    }

    @Test(arguments: families)
    func tensorsFollowTorchvisionsRules(_ model: String) throws {
        let graph = try Registry.graph(model)
        let entries = graph.stateDict()
        // Large models: every tensor up to 200k values, and the smallest of each (class, parameter) beyond.
        var keys = Set(entries.filter { $0.shape.reduce(1, *) <= 200_000 }.map(\.key))
        let groups = Dictionary(grouping: entries) { "\(graph.modules[$0.module].className).\($0.localName)" }
        for (_, g) in groups where !g.contains(where: { keys.contains($0.key) }) {
            keys.insert(g.min { $0.shape.reduce(1, *) < $1.shape.reduce(1, *) }!.key)
        }
        let state = try DefaultInit.stateDict(graph, seed: 7, keys: keys)
        #expect(Set(state.keys) == keys)
        var checked = 0
        for e in entries where keys.contains(e.key) {
            let t = try #require(state[e.key])
            #expect(t.shape == e.shape)
            let m = graph.modules[e.module]
            if e.isBuffer {
                #expect(t.values.allSatisfy { $0 == (e.localName == "running_var" ? 1 : 0) }, "\(model) \(e.key)")
                continue
            }
            let want = Self.expected(model, key: e.key, local: e.localName, cls: m.layer?.className ?? m.className, shape: e.shape,
                                     weight: m.spec?.parameters.first { $0.name == "weight" }?.shape)
            if let problem = Self.check(t.values, want) { Issue.record("\(model) \(e.key) \(e.shape): \(want): \(problem)") }
            checked += 1
        }
        #expect(checked > 0)
    }

    /// The registry's rules resolve for every model (no sampling).
    @Test func everyRegistryModelResolves() throws {
        for model in Paths.registryModels {
            let graph = try Registry.graph(model)
            let plan = try graph.initialisation()
            #expect(plan.count == graph.stateDict().filter { !$0.isBuffer }.count, "\(model)")
        }
    }

    /// Path rules switched by params: ResNet's zero_init_residual, Inception3's aux_logits.
    @Test func conditionalRules() throws {
        let plain = try Registry.graph("resnet50").initialisation()
        let zeroed = try Registry.graph("resnet50", arguments: ["zero_init_residual=true"]).initialisation()
        func draw(_ p: [InitAssignment], _ key: String) -> InitDraw? { p.first { $0.entry.key == key }?.draw }
        #expect(draw(plain, "layer1.0.bn3.weight") == .constant(1))
        #expect(draw(zeroed, "layer1.0.bn3.weight") == .constant(0))
        #expect(draw(zeroed, "layer4.2.bn3.weight") == .constant(0))
        #expect(draw(zeroed, "layer1.0.bn2.weight") == .constant(1))
        #expect(draw(zeroed, "layer1.0.downsample.1.weight") == .constant(1))
        let basic = try Registry.graph("resnet18", arguments: ["zero_init_residual=true"]).initialisation()
        #expect(draw(basic, "layer2.1.bn2.weight") == .constant(0))
        #expect(draw(basic, "layer2.1.bn1.weight") == .constant(1))
        // Without AuxLogits the rule naming it is off, not an error.
        let noAux = try Registry.graph("inception_v3", arguments: ["aux_logits=false"]).initialisation()
        #expect(!noAux.contains { $0.entry.key.hasPrefix("AuxLogits") })
    }

    /// trunc_normal with bounds that cut the distribution: the truncated normal's own moments
    /// (μ + σ(φ(α) − φ(β))/Z, σ²[1 + (αφ(α) − βφ(β))/Z − ((φ(α) − φ(β))/Z)²]), both sampling paths.
    @Test(arguments: [(-0.5, 2.0), (1.0, 3.0), (-3.0, -2.5), (4.0, 9.0)])
    func truncatedNormalMoments(_ bounds: (Double, Double)) throws {
        let (a, b) = bounds
        let text = "model m\ninput 1 1 1 1\ninit Linear.weight = trunc_normal(mean=0.0, std=1.0, a=\(a), b=\(b))\nfc = Linear(1, 200000)\n"
        let graph = try GraphBuilder.build(try ZooParser.parse(text, file: "t.zoo"))
        let v = try #require(DefaultInit.stateDict(graph, seed: 3)["fc.weight"]).values.map(Double.init)
        func phi(_ x: Double) -> Double { exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
        func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
        let z = cdf(b) - cdf(a)
        let mu = (phi(a) - phi(b)) / z
        let variance = 1 + (a * phi(a) - b * phi(b)) / z - mu * mu
        let n = Double(v.count)
        let mean = v.reduce(0, +) / n
        let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        #expect(v.allSatisfy { $0 >= a && $0 <= b })
        #expect(abs(mean - mu) < 5 * variance.squareRoot() / n.squareRoot(), "mean \(mean), expected \(mu)")
        #expect(abs(sd / variance.squareRoot() - 1) < 0.02, "std \(sd), expected \(variance.squareRoot())")
    }

    /// Xavier and kaiming variants on a conv: torch.nn.init's formulas.
    @Test func fanFormulas() throws {
        let text = """
        model m
        input 1 4 8 8
        init "a".weight = xavier_uniform(gain=2)
        init "b".weight = xavier_normal()
        init "c".weight = kaiming_uniform(a=1, mode="fan_out", nonlinearity="leaky_relu")
        init "d".weight = kaiming_normal(nonlinearity="tanh")
        init "e".weight = kaiming_normal(nonlinearity="selu")
        a = Conv2d(4, 6, kernel_size=(3, 5), groups=2)
        b = Conv2d(6, 6, 3)
        c = Conv2d(6, 6, 1)
        d = Conv2d(6, 6, 1)
        e = Conv2d(6, 6, 1)
        """
        let plan = try GraphBuilder.build(try ZooParser.parse(text, file: "t.zoo")).initialisation()
        func draw(_ key: String) -> InitDraw? { plan.first { $0.entry.key == key }?.draw }
        func numbers(_ d: InitDraw?) -> [Double] {
            switch d {
            case .normal(let m, let s): return [0, m, s]
            case .uniform(let a, let b): return [1, a, b]
            default: return []
            }
        }
        func same(_ a: InitDraw?, _ b: InitDraw) -> Bool {
            let (x, y) = (numbers(a), numbers(b))
            return x.count == y.count && !x.isEmpty && zip(x, y).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }
        }
        // a: weight [6, 2, 3, 5]: fan_in 2·15 = 30, fan_out 6·15 = 90; bound √3·gain·√(2/(fan_in + fan_out))
        let ba = 3.0.squareRoot() * 2 * (2.0 / 120).squareRoot()
        #expect(same(draw("a.weight"), .uniform(low: -ba, high: ba)), "\(String(describing: draw("a.weight")))")
        #expect(same(draw("b.weight"), .normal(mean: 0, std: (2.0 / (54 + 54)).squareRoot())), "\(String(describing: draw("b.weight")))")
        let bc = 3.0.squareRoot() * (2.0 / (1 + 1)).squareRoot() / 6.0.squareRoot()   // leaky_relu gain √(2/(1+a²)), fan_out 6
        #expect(same(draw("c.weight"), .uniform(low: -bc, high: bc)), "\(String(describing: draw("c.weight")))")
        #expect(same(draw("d.weight"), .normal(mean: 0, std: (5.0 / 3) / 6.0.squareRoot())), "\(String(describing: draw("d.weight")))")
        #expect(same(draw("e.weight"), .normal(mean: 0, std: 0.75 / 6.0.squareRoot())), "\(String(describing: draw("e.weight")))")
        // torch defaults: a's bias U(±1/√fan_in of the weight)
        #expect(same(draw("a.bias"), .uniform(low: -1 / 30.0.squareRoot(), high: 1 / 30.0.squareRoot())), "\(String(describing: draw("a.bias")))")
    }

    /// `train aux_loss_weight` reaches the engine; without it, the documented default.
    @Test func auxLossWeight() throws {
        #expect(try Registry.load("googlenet").auxLossWeight == 0.3)
        #expect(try Registry.load("inception_v3").auxLossWeight == 0.4)
        let head = """
        model m
        input 2 3 8 8
        train aux_loss_weight = 0.25
        c = Conv2d(3, 4, 3)
        aux = Sequential @train {
          0 = Flatten()
          1 = Linear(144, 5)
        }
        f = torch.flatten(1) <- c
        fc = Linear(144, 5)
        """
        let g = try GraphBuilder.build(try ZooParser.parse(head, file: "t.zoo"))
        #expect(g.auxOutputs.count == 1)
        #expect(try Engine(graph: g, weights: .defaultInit(seed: 1)).auxLossWeight == 0.25)
        let without = try GraphBuilder.build(try ZooParser.parse(head.replacingOccurrences(of: "train aux_loss_weight = 0.25\n", with: ""), file: "t.zoo"))
        #expect(try Engine(graph: without, weights: .defaultInit(seed: 1)).auxLossWeight == Float(ZooFile.defaultAuxLossWeight))
    }

    /// A Parameter no rule covers is an error at its line; buffers and parameters otherwise complete.
    @Test func parameterWithoutRule() throws {
        let text = """
        model m
        input 1 4 2 2
        block Scaled(dim) {
          s = Parameter(dim, 1, 1)
          y = mul <- s, $in
        }
        b = Scaled(4)
        """
        let graph = try GraphBuilder.build(try ZooParser.parse(text, file: "u.zoo"))
        #expect(throws: EngineError.self) { try DefaultInit.stateDict(graph) }
        do { _ = try graph.initialisation(); Issue.record("no error") } catch {
            #expect(error.description.hasPrefix("u.zoo:4:3: error: b.s: no init rule gives this Parameter its values"), "\(error)")
        }
        let fixed = try GraphBuilder.build(try ZooParser.parse(text.replacingOccurrences(of: "input 1 4 2 2\n", with: "input 1 4 2 2\ninit \"*.s\" = constant(0.5)\n"), file: "u.zoo"))
        #expect(try DefaultInit.stateDict(fixed)["b.s"]?.values == [0.5, 0.5, 0.5, 0.5])
    }
}
