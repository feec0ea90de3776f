import CKernels
import ConvLensGraph
import Foundation
import Testing
@testable import ConvLensEngine

/// The packed 1×1 kernel (Conv2dPointwise.swift, CKernels/pointwise.c) against sgemm on the
/// unpacked weights, with the epilogue done the unfused way (bias, + residual, then ReLU or
/// ReLU6): output channels that leave a partial panel of six, pixels per image that leave a
/// partial strip of sixteen or fewer than one (1×1 maps: SE blocks), strips across images, one
/// image and several, deep K (chunks of 16 columns) — with the AVX-512 tile (two strips) and the
/// AVX2 one. Every output must be written, and NaN must come out as the unfused kernels give it
/// (through ReLU6; ReLU's x > 0 ? x : 0 makes it 0).
struct PointwiseKernelTests {
    @Test(arguments: [
        (16, 96, [2, 16, 12, 12]), (32, 16, [1, 32, 17, 9]), (144, 24, [3, 144, 7, 7]), (5, 13, [4, 5, 1, 1]),
        (7, 6, [3, 7, 3, 11]), (960, 160, [2, 960, 7, 7]), (2048, 20, [1, 2048, 3, 3]), (1, 1, [2, 1, 5, 5]), (24, 144, [8, 24, 4, 4]),
    ], [0, 1, 2])
    func packedEqualsSgemm(_ c: (Int, Int, [Int]), clamp: Int) throws {
        let (cin, cout, shape) = c
        let layer = Conv2d(inChannels: cin, outChannels: cout, kernelSize: [1, 1], bias: true)
        let out = try layer.outputShape([shape])
        let plain = ConvGeometry(input: shape, output: out, layer: layer)
        var packed = plain
        packed.packedPointwise = true
        var rng = RandomSource(seed: 5)
        func random(_ s: [Int]) -> Tensor { let t = Tensor(zeros: s); for i in 0..<t.count { t[i] = Float(rng.normal()) }; return t }
        let x = random(shape), w = random(layer.parameters[0].shape), b = random([cout])
        let residual = random(out)
        x[0] = .nan                                   // image 0's column 0: NaN in every output channel
        let u = Tensor(zeros: [packed.transformedFilterCount])
        convlens_pointwise_pack(u.data, w.data, cout, cin)
        var epilogue = ConvEpilogue.none
        epilogue.residual = UnsafePointer(residual.data)
        epilogue.activation = [nil, .relu, .function(try Self.relu6())][clamp]
        let want = Tensor(zeros: out)
        let col = Tensor(zeros: [max(plain.colCount, packed.colCount, 1)])
        conv2dForward(want.data, x.data, w.data, b.data, plain, col: col.data, epilogue: epilogue)
        for wide in [0, 1] {
            let previous = convlens_pointwise_avx512(Int32(wide))
            defer { _ = convlens_pointwise_avx512(previous) }
            let got = Tensor(zeros: out)
            for i in 0..<got.count { got[i] = 12345 }       // every output must be written
            var e = epilogue
            e.transformedFilters = UnsafePointer(u.data)
            let macs = conv2dForward(got.data, x.data, w.data, b.data, packed, col: col.data, epilogue: e)
            #expect(macs == plain.macs)
            let hw = out[2] * out[3]
            for o in 0..<cout { #expect(got[o * hw].isNaN == want[o * hw].isNaN, "channel \(o): NaN \(want[o * hw].isNaN ? "lost" : "made")") }
            var diff = 0.0, norm = 0.0                  // relative error (2-norm) over the other outputs
            for i in 0..<got.count where !want[i].isNaN && !got[i].isNaN {
                diff += Double(got[i] - want[i]) * Double(got[i] - want[i]); norm += Double(want[i]) * Double(want[i])
            }
            #expect(!(0..<got.count).contains { got[$0] == 12345 })
            let err = (diff / max(norm, 1e-30)).squareRoot()
            #expect(err < 1e-6, "\(cin)→\(cout) \(shape), clamp \(clamp), AVX-512 \(wide): relative error \(err)")
        }
    }

    static func relu6() throws -> Activation {
        let g = try GraphBuilder.build(try ZooParser.parse("model m\ninput 1 1 1 1\nact = ReLU6()\n", file: "relu6.zoo"))
        guard case .activation(let a) = g.nodes[0].layer else { throw EngineError("not an activation") }
        return a
    }

    /// Which convolutions the fast path gives the packed kernel: ungrouped 1×1s with no
    /// activation, ReLU or ReLU6 after them (MobileNetV2's expansions and projections), not those
    /// followed by SiLU (EfficientNet-B0's expansions) or grouped ones.
    @Test func plannedWhereTheClampIsTheEpilogue() throws {
        func packed(_ model: String) throws -> (packed: Int, pointwise: Int) {
            let graph = try Registry.graph(model, input: [1, 3, 64, 64])
            let e = try Engine(graph: graph, weights: .hash)
            let chains = e.inferencePlan.chains.values.filter { $0.geometry.isPointwise && $0.geometry.groups == 1 }
            return (chains.filter(\.geometry.packedPointwise).count, chains.count)
        }
        let m = try packed("mobilenet_v2")
        #expect(m.packed == m.pointwise && m.packed == 34)
        let eff = try packed("efficientnet_b0")
        #expect(eff.packed > 0 && eff.packed < eff.pointwise)
        let g = try Registry.graph("efficientnet_b0", input: [1, 3, 64, 64])
        let e = try Engine(graph: g, weights: .hash)
        for chain in e.inferencePlan.chains.values where chain.geometry.packedPointwise {
            if case .function(let a)? = chain.activation?.function { #expect(a.function == .relu6) }
        }
    }
}
