import ConvLensGraph
import Foundation
import Testing
@testable import ConvLensEngine

/// The engine's execution fusions (ReLU folded into the max pool after it; gradients passed in
/// place through elementwise nodes) change no number: a fused and an unfused engine give the same
/// logits, loss, input and parameter gradients, in train and eval mode, bit for bit. Winograd
/// convolutions (on by default, off in the unfused engine) change the rounding only: within 1e-4
/// over a whole model (the PyTorch tolerance for logits), 1e-5 per convolution (WinogradTests).
struct FusionTests {
    @Test(arguments: [("convnet", [4, 1, 28, 28]), ("lenet5", [3, 1, 32, 32]), ("resnet18", [2, 3, 56, 56]), ("googlenet", [2, 3, 112, 112])])
    func fusedEqualsUnfused(_ c: (String, [Int])) throws {
        let graph = try Registry.graph(c.0, arguments: c.0 == "googlenet" ? ["dropout=0", "dropout_aux=0"] : [], input: c.1)
        let fused = try Engine(graph: graph, weights: Verify.weights(graph))
        #expect(fused.plan.contains { $0.poolAppliesRelu }, "\(c.0) has a ReLU → max pool pair to fuse")
        #expect(fused.plan.contains { $0.conv?.winograd == true } == ["resnet18", "googlenet"].contains(c.0))
        try Self.compare(graph)
    }

    /// One builder of every family the classic four do not cover (its own layer kinds, depthwise and
    /// grouped convolutions), at small inputs: fused and unfused bit for bit. (Winograd against the
    /// direct kernel is checked above and per convolution; on these tiny inputs train-mode batch
    /// norm over 1×1 maps is too ill-conditioned for a whole-model tolerance to mean anything.)
    @Test(arguments: [("squeezenet1_1", [2, 3, 48, 48]), ("densenet121", [2, 3, 32, 32]), ("resnext50_32x4d", [2, 3, 32, 32]),
                      ("shufflenet_v2_x0_5", [2, 3, 32, 32]), ("mnasnet0_5", [2, 3, 32, 32]), ("mobilenet_v2", [2, 3, 32, 32]),
                      ("mobilenet_v3_small", [2, 3, 32, 32]), ("efficientnet_b0", [2, 3, 32, 32]), ("regnet_y_400mf", [2, 3, 32, 32]),
                      ("convnext_tiny", [2, 3, 32, 32])])
    func fusedEqualsUnfusedEveryFamily(_ c: (String, [Int])) throws {
        try Self.compare(try Registry.graph(c.0, input: c.1), winograd: false)
    }

    static func compare(_ graph: ModelGraph, winograd checkWinograd: Bool = true) throws {
        let c = (graph.name, graph.inputShape)
        let fused = try Engine(graph: graph, weights: Verify.weights(graph))
        let winograd = try Engine(graph: graph, weights: Verify.weights(graph))
        let plain = try Engine(graph: graph, weights: Verify.weights(graph), fuse: false)
        for i in fused.plan.indices { fused.plan[i].conv?.winograd = false }
        #expect(!plain.plan.contains { $0.poolAppliesRelu || $0.reluFusedIntoPool || $0.conv?.winograd == true })
        // Inputs shifted negative too, so some pooling windows are all ≤ 0 after the ReLU.
        let x = HashInit.input(shape: c.1)
        for i in 0..<x.count where i % 3 == 0 { x[i] -= 1.5 }
        let targets = HashInit.target(count: c.1[0], classes: graph.nodes[graph.output].outputShape[1])
        for training in [true, false] {
            var results: [(Tensor, Double, Tensor, [String: Tensor])] = []
            for e in checkWinograd ? [fused, plain, winograd] : [fused, plain] {
                let logits = try e.forward(x, training: training).copy()
                let (loss, _, d, aux) = try e.crossEntropy(targets: targets)
                e.zeroGradients()
                let dx = try e.backward(d, auxGradients: aux, inputGradient: true)
                results.append((logits, loss, dx, e.gradients.mapValues { $0.copy() }))
            }
            let (a, b) = (results[0], results[1])
            let same = a.0.values == b.0.values && a.1 == b.1 && a.2.values == b.2.values
                && fused.parameterKeys.allSatisfy { a.3[$0]!.values == b.3[$0]!.values }
            #expect(same, "\(c.0): fused and unfused differ (training \(training))")
            guard checkWinograd else { continue }
            let w = results[2]
            let named = [("logits", relativeError(w.0, b.0)), ("grad.input", relativeError(w.2, b.2))]
                + fused.parameterKeys.map { ("grad.\($0)", relativeError(w.3[$0]!, b.3[$0]!)) }
            // Train-mode gradients of deep batch-norm networks at batch 2 are ill-conditioned in
            // float32 (the reference README: PyTorch's own are up to 4% off), so Winograd's different
            // rounding shows there; logits, and everything in eval mode, stay within 1e-4.
            #expect(named[0].1 < 1e-4, "\(c.0) Winograd vs direct logits (training \(training)): \(named[0].1)")
            let worst = named.max { $0.1 < $1.1 }!
            #expect(worst.1 < (training ? 5e-2 : 1e-4), "\(c.0) Winograd vs direct (training \(training)): \(worst.0) \(worst.1)")
        }
    }
}

/// Convolutions computed a band of output rows at a time (`tileRows`, large feature maps) or
/// several images per GEMM (`imagesPerGEMM`, small ones) agree with one whole-image GEMM, for
/// strides, padding, dilation, groups and rectangular kernels, forward and backward.
struct ConvTilingTests {
    @Test(arguments: [
        (Conv2d(inChannels: 3, outChannels: 5, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1]), [2, 3, 11, 9]),
        (Conv2d(inChannels: 4, outChannels: 6, kernelSize: [3, 3], stride: [2, 2], padding: [1, 1]), [3, 4, 13, 12]),
        (Conv2d(inChannels: 4, outChannels: 4, kernelSize: [1, 7], stride: [1, 1], padding: [0, 3]), [2, 4, 9, 10]),
        (Conv2d(inChannels: 2, outChannels: 3, kernelSize: [3, 3], stride: [1, 1], padding: [2, 2], dilation: [2, 2]), [2, 2, 10, 10]),
        (Conv2d(inChannels: 4, outChannels: 6, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], groups: 2), [2, 4, 8, 8]),
    ])
    func tiledEqualsWhole(_ c: (Conv2d, [Int])) throws {
        let (layer, shape) = c
        let out = try layer.outputShape([shape])
        var whole = ConvGeometry(input: shape, output: out, layer: layer)
        whole.tileRows = whole.oh; whole.imagesPerGEMM = 1
        var variants: [ConvGeometry] = []
        for t in [1, 2, 3] { var g = whole; g.tileRows = t; variants.append(g) }
        if layer.groups == 1 { var g = whole; g.imagesPerGEMM = 2; variants.append(g) }
        var rng = RandomSource(seed: 7)
        func random(_ s: [Int]) -> Tensor { let t = Tensor(zeros: s); for i in 0..<t.count { t[i] = Float(rng.normal()) }; return t }
        let x = random(shape), w = random(layer.parameters[0].shape), b = random([layer.outChannels]), dy = random(out)
        func run(_ g: ConvGeometry) -> (Tensor, Tensor, Tensor, Tensor) {
            let y = Tensor(zeros: out), dx = Tensor(zeros: shape), dw = Tensor(zeros: w.shape), db = Tensor(zeros: b.shape)
            let col = Tensor(zeros: [max(g.colCount, 1)])
            conv2dForward(y.data, x.data, w.data, b.data, g, col: col.data)
            conv2dBackward(dx.data, dw.data, db.data, dy.data, x.data, w.data, g, col: col.data)
            return (y, dx, dw, db)
        }
        let want = run(whole)
        for g in variants {
            let got = run(g)
            for (name, a, e) in [("y", got.0, want.0), ("dx", got.1, want.1), ("dw", got.2, want.2), ("db", got.3, want.3)] {
                let err = relativeError(a, e)
                #expect(err < 1e-5, "\(name) with tileRows \(g.tileRows), imagesPerGEMM \(g.imagesPerGEMM): \(err)")
            }
        }
    }
}

/// Winograd F(2×2, 3×3) and F(4×4, 3×3) forward against the direct im2col kernel: odd and even
/// sizes (partial tiles), padding 0–2, bias or none, batches split over threads or one image,
/// several bands.
struct WinogradTests {
    @Test(arguments: [
        (32, 32, 1, true, [2, 32, 14, 14]), (48, 40, 1, false, [3, 48, 9, 11]), (32, 64, 0, true, [1, 32, 7, 20]),
        (64, 32, 2, true, [2, 64, 5, 6]), (32, 32, 1, true, [4, 32, 56, 34]), (40, 36, 1, true, [1, 40, 3, 3]), (512, 64, 1, true, [5, 512, 7, 7]), (64, 64, 1, false, [6, 64, 8, 8]),
        (48, 192, 1, false, [2, 48, 16, 16]), (192, 48, 1, true, [1, 192, 16, 16]), (96, 256, 1, false, [2, 96, 14, 14]),
        (64, 64, 1, true, [1, 64, 56, 56]), (128, 96, 1, false, [3, 128, 29, 27]), (40, 72, 0, true, [2, 40, 35, 33]),
    ], [2, 4])
    func winogradEqualsDirect(_ c: (Int, Int, Int, Bool, [Int]), tile: Int) throws {
        let (cin, cout, pad, bias, shape) = c
        let layer = Conv2d(inChannels: cin, outChannels: cout, kernelSize: [3, 3], stride: [1, 1], padding: [pad, pad], bias: bias)
        let out = try layer.outputShape([shape])
        var wino = ConvGeometry(input: shape, output: out, layer: layer)
        #expect(wino.winograd == ((out[2] + 1) / 2 * ((out[3] + 1) / 2) >= 36))   // on by default from ~12×12 up
        wino.winograd = true
        wino.winogradTile = tile
        var direct = wino
        direct.winograd = false
        var rng = RandomSource(seed: 11)
        func random(_ s: [Int]) -> Tensor { let t = Tensor(zeros: s); for i in 0..<t.count { t[i] = Float(rng.normal()) }; return t }
        let x = random(shape), w = random(layer.parameters[0].shape), b = bias ? random([cout]) : nil
        let y1 = Tensor(zeros: out), y2 = Tensor(zeros: out)
        for i in 0..<y1.count { y1[i] = .nan }            // every output must be written
        let col = Tensor(zeros: [max(wino.colCount, direct.colCount)])
        let macs = conv2dForward(y1.data, x.data, w.data, b?.data, wino, col: col.data)
        conv2dForward(y2.data, x.data, w.data, b?.data, direct, col: col.data)
        #expect(macs == layer.macs(LayerCall(inputs: [shape], output: out, training: false, isModule: true)))
        #expect(!(0..<y1.count).contains { y1[$0].isNaN })
        let err = relativeError(y1, y2)
        #expect(err < 1e-5, "F(\(tile)×\(tile), 3×3): relative error \(err)")
    }

    /// The fast path's tiles: F(4×4) on large maps, F(2×2) on small ones, none on shapes Winograd
    /// does not handle.
    @Test func fastPathTiles() {
        func tile(_ c: Int, _ s: Int, stride: Int = 1, n: Int = 1) -> Int? {
            let l = Conv2d(inChannels: c, outChannels: c, kernelSize: [3, 3], stride: [stride, stride], padding: [1, 1])
            let o = (s + 2 - 3) / stride + 1
            return ConvGeometry(input: [n, c, s, s], output: [n, c, o, o], layer: l).fastWinogradTile
        }
        #expect(tile(64, 56) == 4 && tile(128, 28) == 4 && tile(256, 14) == 2 && tile(512, 7) == nil)
        #expect(tile(64, 56, stride: 2) == nil && tile(16, 56) == nil)
    }
}

/// The eval-mode fast path (InferencePlan.swift: batch norms folded into convolutions, residual
/// adds and activations in the convolution epilogue, Winograd where it applies, recycled
/// activations) against the direct kernels of a `fuse: false` engine: logits within 1e-5 relative,
/// for one builder of every family at a small input, and ResNet18 and VGG11 at inputs whose
/// larger maps take F(4×4, 3×3) (`fastWinogradTile`). Weights are hash_init, whose running
/// statistics (variance 0.75–1.25, mean ±0.1, γ 1 ± 0.1, β ±0.1) make every folded batch norm do
/// real work. (Not `Verify.weights`: its calibration leaves EfficientNetV2-S chaotic — an input
/// change of 1e-6 moves its logits by 56% on the direct kernels alone — so no rounding-level
/// comparison means anything there.) Every family with a batch norm, an add or an activation
/// after a convolution must have fused something (ConvNet's and LeNet's ReLUs go to their max
/// pools; ConvNeXt's convolutions are followed by permutes and layer norms).
struct InferencePlanTests {
    @Test(arguments: [("convnet", [4, 1, 28, 28]), ("lenet5", [3, 1, 32, 32]), ("alexnet", [2, 3, 64, 64]), ("vgg11_bn", [2, 3, 64, 64]),
                      ("resnet18", [2, 3, 64, 64]), ("resnet50", [2, 3, 64, 64]), ("googlenet", [2, 3, 64, 64]), ("inception_v3", [2, 3, 160, 160]),
                      ("squeezenet1_1", [2, 3, 48, 48]), ("densenet121", [2, 3, 64, 64]), ("resnext50_32x4d", [2, 3, 64, 64]),
                      ("wide_resnet50_2", [2, 3, 64, 64]), ("shufflenet_v2_x0_5", [2, 3, 64, 64]), ("mnasnet0_5", [2, 3, 64, 64]),
                      ("mobilenet_v2", [2, 3, 64, 64]), ("mobilenet_v3_small", [2, 3, 64, 64]), ("efficientnet_b0", [2, 3, 64, 64]),
                      ("efficientnet_v2_s", [2, 3, 64, 64]), ("regnet_y_400mf", [2, 3, 64, 64]), ("regnet_x_400mf", [2, 3, 64, 64]),
                      ("convnext_tiny", [2, 3, 64, 64]), ("resnet18", [1, 3, 128, 128]), ("vgg11_bn", [1, 3, 112, 112])])
    func fastPathMatchesDirectKernels(_ c: (String, [Int])) throws {
        let graph = try Registry.graph(c.0, input: c.1)
        let weights = HashInit.stateDict(graph)
        let fast = try Engine(graph: graph, weights: weights)
        let direct = try Engine(graph: graph, weights: weights, fuse: false)
        let fuses = fast.inferencePlan.chains.values.contains { $0.last != $0.conv }
        #expect(fuses == !["convnet", "lenet5", "convnext_tiny"].contains(c.0), "\(c.0): the fast path fused \(fuses ? "something" : "nothing")")
        #expect(direct.inferencePlan.chains.isEmpty)
        let x = HashInit.input(shape: c.1)
        for i in 0..<x.count where i % 3 == 0 { x[i] -= 1.5 }
        let want = try direct.forward(x, training: false, retainForBackward: false).copy()
        let got = try fast.forward(x, training: false, retainForBackward: false).copy()
        let err = relativeError(got, want)
        #expect(err < 1e-5, "\(c.0): fast path vs direct kernels, relative error \(err)")
        // The same engine again (folded weights reused) gives the same logits, and after its
        // weights change (`setState`: every batch norm's γ halved) it refolds them.
        #expect(try fast.forward(x, training: false, retainForBackward: false).values == got.values)
        for key in fast.parameterKeys where key.hasSuffix(".weight") && fast.state[String(key.dropLast(6)) + "running_var"] != nil {
            let halved = fast.state[key]!.copy()
            for i in 0..<halved.count { halved[i] *= 0.5 }
            try fast.setState(key, halved)     // the weights are shared: `direct` sees the change too
        }
        let after = relativeError(try fast.forward(x, training: false, retainForBackward: false), try direct.forward(x, training: false, retainForBackward: false))
        #expect(after < 1e-5, "\(c.0): after a train-mode pass, relative error \(after)")
    }

    /// What ResNet18's plan fuses: every convolution takes its batch norm; the second of each
    /// block also the add (or the downsample's convolution, which runs after it, does) and the ReLU.
    @Test func resnet18Plan() throws {
        let graph = try Registry.graph("resnet18", input: [1, 3, 64, 64])
        let e = try Engine(graph: graph, weights: .hash)
        let convs = graph.nodes.filter { if case .conv2d = $0.layer { return true } else { return false } }
        #expect(e.inferencePlan.chains.count == convs.count)
        #expect(e.inferencePlan.chains.values.allSatisfy { $0.batchNorm != nil })
        #expect(e.inferencePlan.chains.values.filter { $0.add != nil }.count == 8)
        #expect(e.inferencePlan.chains.values.filter { $0.add != nil && $0.activation != nil }.count == 8)
        // conv1 → bn1 → relu → maxpool: the pool keeps applying the ReLU.
        let stem = e.inferencePlan.chains[convs[0].index]!
        #expect(stem.activation == nil && stem.batchNorm == stem.last && e.plan.contains { $0.reluFusedIntoPool })
    }
}

/// The fast path's eight-lane exp (VectorMath.swift) against Foundation.exp: within 2 ulps
/// (relative 2.4e-7) wherever the result is a normal float, +inf above the range, NaN kept.
struct VectorExpTests {
    /// e^x lane by lane over the whole float range, from the engine's reduction and polynomial
    /// (`expReduced`): overflow gives +inf, underflow below −87.3 gives 0, NaN stays NaN.
    @inline(__always)
    func vexp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        typealias V = SIMD8<Float>
        let hi: Float = 88.72283, lo: Float = -87.33654
        var xc = x.replacing(with: hi, where: x .> hi)
        xc = xc.replacing(with: lo, where: xc .< lo)
        let (e, ni) = expReduced(xc)
        // 2^n as 2^(n>>1)·2^(n − n>>1): n = 128 (x near the top of the range) has no float exponent
        // of its own, and both halves of n ≥ −126 stay normal.
        let n1 = ni &>> 1, n2 = ni &- n1
        var y = (e * unsafeBitCast((n1 &+ 127) &<< 23, to: V.self)) * unsafeBitCast((n2 &+ 127) &<< 23, to: V.self)
        y = y.replacing(with: .infinity, where: x .> hi)
        y = y.replacing(with: 0, where: x .< lo)
        return y.replacing(with: x, where: x .!= x)       // NaN in, NaN out
    }

    @Test func matchesFoundationExp() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88.7 {
            let v = vexp(SIMD8<Float>(repeating: x) + SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7) * 1e-3)
            for l in 0..<8 {
                let xi = x + Float(l) * 1e-3, want = Foundation.exp(xi)
                worst = max(worst, abs(v[l] - want) / want)
            }
            x += 0.0137
        }
        #expect(worst < 2.4e-7, "vexp: worst relative error \(worst)")
        let edge = vexp(SIMD8<Float>(100, -100, .nan, 0, 1, -1, 88, -87))
        #expect(edge[0] == .infinity && edge[1] == 0 && edge[2].isNaN && edge[3] == 1)
    }

    /// SiLU and sigmoid lanes (their own narrower exp, `onePlusExpNeg`) against the scalar formulas
    /// with Foundation.exp: within 4 ulps where the result is normal, the formula's special values
    /// (±∞, NaN) and flushes to ±0 below −87.3.
    @Test func logisticLanesMatchFormulas() {
        var worstSiLU: Float = 0, worstSigmoid: Float = 0
        var x: Float = -87
        while x < 100 {
            let v = SIMD8<Float>(repeating: x) + SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7) * 1e-3
            let silu = SiLULanes.apply(v), sig = SigmoidLanes.apply(v)
            for l in 0..<8 {
                let xi = v[l], s = 1 / (1 + Foundation.exp(-xi))
                if abs(xi * s) > 1e-30 { worstSiLU = max(worstSiLU, abs(silu[l] - xi * s) / abs(xi * s)) }
                if s > 1e-30 { worstSigmoid = max(worstSigmoid, abs(sig[l] - s) / s) }
            }
            x += 0.0137
        }
        #expect(worstSiLU < 4.8e-7, "SiLU: worst relative error \(worstSiLU)")
        #expect(worstSigmoid < 4.8e-7, "sigmoid: worst relative error \(worstSigmoid)")
        let edge = SIMD8<Float>(.infinity, -.infinity, .nan, 0, -88, -100, 20, -20)
        let silu = SiLULanes.apply(edge), sig = SigmoidLanes.apply(edge)
        #expect(silu[0] == .infinity && silu[1].isNaN && silu[2].isNaN && silu[3] == 0 && silu[4] == 0 && silu[5] == 0)
        #expect(sig[0] == 1 && sig[1] == 0 && sig[2].isNaN && sig[3] == 0.5 && sig[4] == 0 && sig[5] == 0)
        #expect(abs(silu[6] - 20) <= 20 * 1.2e-7 && abs(sig[7] - Foundation.exp(-20)) <= 1e-6 * Foundation.exp(-20))
    }
}
