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
