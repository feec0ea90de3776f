import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// `verify` on both engines over a small network that uses every layer kind the later families
/// brought (ConvNeXt's block with a container-owned layer scale, LayerNorm2d, permute, GELU;
/// squeeze-excitation's broadcast multiply; ShuffleNet's chunk and channel shuffle; DenseNet's
/// concatenation; GroupNorm, Softmax, stochastic depth with p > 0, the activations, mean), and on
/// two registry families small enough for a debug build. Every check must pass.
struct VerifyKindsTests {
    static let everyKind = """
    model every_kind
    input 2 3 12 12
    block CNBlock(dim) {
      block = Sequential {
        0 = Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True)
        1 = Permute((0, 2, 3, 1))
        2 = LayerNorm(dim, eps=1e-6)
        3 = Linear(in_features=dim, out_features=2 * dim)
        4 = GELU(approximate='tanh')
        5 = Linear(in_features=2 * dim, out_features=dim)
        6 = Permute((0, 3, 1, 2))
      }
      layer_scale = Parameter(dim, 1, 1)
      scaled = mul <- layer_scale, block
      stochastic_depth = StochasticDepth(0.3, 'row')
      add = add <- stochastic_depth, $in
    }
    block SE(c, s) {
      avgpool = AdaptiveAvgPool2d(1)
      fc1 = Conv2d(c, s, 1)
      act = SiLU()
      fc2 = Conv2d(s, c, 1)
      gate = Hardsigmoid()
      scale = mul <- gate, $in
    }
    block Shuffle(c) {
      x1 = torch.chunk(2, dim=1)[0]
      x2 = torch.chunk(2, dim=1)[1] <- $in
      branch = Sequential <- x2 {
        0 = Conv2d(c // 2, c // 2, 3, padding=1, groups=c // 2, bias=False)
        1 = BatchNorm2d(c // 2)
        2 = ReLU6()
      }
      cat = torch.cat(1) <- x1, branch
      shuffle = channel_shuffle(2)
    }
    stem = Conv2d(3, 8, 2, stride=2)
    norm = LayerNorm2d(8, eps=1e-6)
    cn = CNBlock(8)
    se = SE(8, 4)
    shuffle = Shuffle(8)
    gn = GroupNorm(2, 8)
    act = Hardswish()
    dense = torch.cat(1) <- act, shuffle
    tanh = Tanh()
    mean = torch.mean(dim=(2, 3))
    fc = Linear(16, 10)
    leaky = LeakyReLU(0.1)
    softmax = Softmax(dim=1)
    """

    @Test func everyKindPassesOnBothEngines() throws {
        let graph = try GraphBuilder.build(try ZooParser.parse(Self.everyKind, file: "every_kind.zoo"))
        let report = try Verify.run(graph: graph)
        #expect(report.passed, "\(report.table)")
        #expect(Set(report.rows.map(\.engine)) == ["direct", "fast"])
        // Every kind with a node is checked locally, in both modes, by both engines.
        let kinds = Set(graph.nodes.map { Verify.kindName($0.layer) })
        for kind in kinds { #expect(report.rows.filter { $0.check == "grad \(kind) (local)" }.count == 4, "\(kind)") }
    }

    @Test(arguments: ["mobilenet_v3_small", "shufflenet_v2_x0_5"])
    func familyPassesOnBothEngines(_ model: String) throws {
        let graph = try Registry.graph(model, arguments: [], input: [2, 3, 64, 64])
        let report = try Verify.run(graph: graph, nodesPerKind: 1)
        #expect(report.passed, "\(report.table)")
    }
}

/// The step ladder of the whole-model checks: it must find the derivative of a function curved at
/// the scale of the first step, from the numbers alone, and say when no step settles.
struct VerifyLadderTests {
    @Test func affineNeedsOneStep() {
        let (estimates, settled) = Verify.ladder(1e-1, levels: 1) { s in 2 + 3 * Double(s) }
        #expect(estimates.count == 1 && abs(estimates[0].value - 3) < 1e-5 && estimates[0].step == 1e-1 && settled)
    }

    @Test func curvedAtTheFirstStepSettlesAtASmallerOne() {
        // tanh(2000·s): derivative 2000 at 0, but at s = ±1e-3 it is already saturated.
        let f = { (s: Float) -> Double in tanh(2000 * Double(s)) }
        #expect(abs(Verify.richardson(1e-3, f) - 2000) > 0.1 * 2000)    // one step is 15% off
        let (estimates, settled) = Verify.ladder(1e-3, levels: 5, f)
        // It walks down until two neighbours agree to 1e-3, and the last estimate is the derivative.
        let last = estimates.last!
        #expect(settled && last.step < 1e-4 && abs(last.value - 2000) < 1e-3 * 2000, "\(estimates)")
    }

    @Test func chaoticDoesNotSettle() {
        // A sign-like function with ties at every scale: neighbouring estimates never agree.
        let f = { (s: Float) -> Double in
            var x = UInt64(bitPattern: Int64(Double(s) * 1e9)) &* 0x9E37_79B9_7F4A_7C15
            x ^= x >> 29
            return Double(x % 1000) / 1000
        }
        let (estimates, settled) = Verify.ladder(1e-3, levels: 5, f)
        #expect(!settled && estimates.count == 5)
    }

    /// RegNetX in train mode: at 2×3×64×64 the step 1e-3 alone gave −2.1e3 for the input direction
    /// against the backward pass's −3.4e4, a correct gradient the ladder reaches at 6e-5 (at batch
    /// 2 a last-stage channel has 8 values, and some directions do not settle at all: batch 4 here).
    @Test func regnetInTrainModePasses() throws {
        let graph = try Registry.graph("regnet_x_400mf", arguments: [], input: [4, 3, 64, 64])
        let report = try Verify.run(graph: graph, nodesPerKind: 1, engines: [("direct", false)])
        #expect(report.passed && report.unmeasurable == 0, "\(report.table)")
    }
}
