import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// Every case of ops.safetensors (PyTorch, float64, stored as float32): forward and backward
/// within 1e-5 relative error ‖out − ref‖/‖ref‖.
struct OpVectorTests {
    static let file: SafeTensors = try! SafeTensors.read(EnginePaths.vectors("ops"))
    static let cases: [String] = file.metadata.keys.sorted()

    @Test func allCasesPresent() {
        #expect(Self.cases.count >= 20)
    }

    @Test(arguments: cases)
    func opCase(_ name: String) throws {
        let f = Self.file
        let meta = try #require(try JSONSerialization.jsonObject(with: Data(f.metadata[name]!.utf8)) as? [String: Any])
        let op = meta["op"] as! String
        let x = try f.tensor("\(name).x"), yRef = try f.tensor("\(name).y"), gy = try f.tensor("\(name).gy")
        let y = Tensor(zeros: yRef.shape), gx = Tensor(zeros: x.shape)
        func pair(_ k: String, _ d: Int) -> [Int] {
            if let v = meta[k] as? [Int] { return v }
            if let v = meta[k] as? Int { return [v, v] }
            return [d, d]
        }
        var checks: [(String, Tensor, Tensor)] = []
        switch op {
        case "conv2d":
            let w = try f.tensor("\(name).w")
            let b = f.entries["\(name).b"] != nil ? try f.tensor("\(name).b") : nil
            let groups = meta["groups"] as? Int ?? 1
            let layer = Conv2d(inChannels: x.shape[1], outChannels: w.shape[0], kernelSize: [w.shape[2], w.shape[3]],
                               stride: pair("stride", 1), padding: pair("padding", 0), dilation: pair("dilation", 1),
                               groups: groups, bias: b != nil)
            let g = ConvGeometry(input: x.shape, output: try layer.outputShape([x.shape]), layer: layer)
            #expect([g.n, g.oc, g.oh, g.ow] == yRef.shape)
            let col = Tensor(zeros: [max(g.colCount, 1)])
            let macs = conv2dForward(y.data, x.data, w.data, b?.data, g, col: col.data)
            #expect(macs == layer.macs(LayerCall(inputs: [x.shape], output: yRef.shape, training: false, isModule: true)))
            let gw = Tensor(zeros: w.shape), gb = b.map { Tensor(zeros: $0.shape) }
            conv2dBackward(gx.data, gw.data, gb?.data, gy.data, x.data, w.data, g, col: col.data)
            checks.append(("gw", gw, try f.tensor("\(name).gw")))
            if let gb { checks.append(("gb", gb, try f.tensor("\(name).gb"))) }
        case "max_pool2d", "avg_pool2d":
            let k = pair("kernel_size", 1)
            let win = Window(kernel: k, stride: meta["stride"] == nil ? k : pair("stride", 1), padding: pair("padding", 0))
            let (planes, h, w, oh, ow) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3], yRef.shape[2], yRef.shape[3])
            if op == "max_pool2d" {
                let idx = UnsafeMutablePointer<Int32>.allocate(capacity: yRef.count); defer { idx.deallocate() }
                maxPool2dForward(y.data, idx, x.data, planes: planes, h: h, w: w, oh: oh, ow: ow, win)
                maxPool2dBackward(gx.data, gy.data, idx, planes: planes, h: h, w: w, oh: oh, ow: ow)
            } else {
                let cip = meta["count_include_pad"] as? Bool ?? true
                avgPool2dForward(y.data, x.data, planes: planes, h: h, w: w, oh: oh, ow: ow, win, countIncludePad: cip)
                avgPool2dBackward(gx.data, gy.data, planes: planes, h: h, w: w, oh: oh, ow: ow, win, countIncludePad: cip)
            }
        case "adaptive_avg_pool2d":
            let (planes, h, w, oh, ow) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3], yRef.shape[2], yRef.shape[3])
            #expect([oh, ow] == pair("output_size", 1))
            adaptiveAvgPool2dForward(y.data, x.data, planes: planes, h: h, w: w, oh: oh, ow: ow)
            adaptiveAvgPool2dBackward(gx.data, gy.data, planes: planes, h: h, w: w, oh: oh, ow: ow)
        case "linear":
            let w = try f.tensor("\(name).w"), b = try f.tensor("\(name).b")
            let rows = x.count / w.shape[1]
            linearForward(y.data, x.data, w.data, b.data, rows: rows, inFeatures: w.shape[1], outFeatures: w.shape[0])
            let gw = Tensor(zeros: w.shape), gb = Tensor(zeros: b.shape)
            linearBackward(gx.data, gw.data, gb.data, gy.data, x.data, w.data, rows: rows, inFeatures: w.shape[1], outFeatures: w.shape[0])
            checks += [("gw", gw, try f.tensor("\(name).gw")), ("gb", gb, try f.tensor("\(name).gb"))]
        case "relu":
            reluForward(y.data, x.data, count: x.count)
            reluBackward(gx.data, gy.data, y.data, count: x.count)
        case "log_softmax":
            logSoftmaxForward(y.data, x.data, rows: x.shape[0], classes: x.shape[1])
            logSoftmaxBackward(gx.data, gy.data, y.data, rows: x.shape[0], classes: x.shape[1])
        case "batch_norm_train", "batch_norm_eval":
            let training = op == "batch_norm_train"
            let w = try f.tensor("\(name).w"), b = try f.tensor("\(name).b")
            let rm = try f.tensor("\(name).running_mean"), rv = try f.tensor("\(name).running_var")
            let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
            let mean = Tensor(zeros: [c]), invstd = Tensor(zeros: [c])
            let eps = meta["eps"] as? Double ?? 1e-5
            if training {
                batchNorm2dTrainForward(y.data, mean.data, invstd.data, x.data, w.data, b.data, runningMean: rm.data, runningVar: rv.data,
                                        n: n, c: c, hw: hw, eps: eps, momentum: meta["momentum"] as? Double ?? 0.1)
            } else {
                batchNorm2dEvalForward(y.data, mean.data, invstd.data, x.data, w.data, b.data, runningMean: rm.data, runningVar: rv.data,
                                       n: n, c: c, hw: hw, eps: eps)
            }
            let gw = Tensor(zeros: [c]), gb = Tensor(zeros: [c])
            batchNorm2dBackward(gx.data, gw.data, gb.data, gy.data, x.data, w.data, mean.data, invstd.data, n: n, c: c, hw: hw, training: training)
            checks += [("gw", gw, try f.tensor("\(name).gw")), ("gb", gb, try f.tensor("\(name).gb")),
                       ("running_mean", rm, try f.tensor("\(name).running_mean_after")),
                       ("running_var", rv, try f.tensor("\(name).running_var_after"))]
        default:
            Issue.record("unknown op \(op) in case \(name)")
            return
        }
        checks.insert(("y", y, yRef), at: 0)
        checks.insert(("gx", gx, try f.tensor("\(name).gx")), at: 1)
        for (what, got, want) in checks {
            #expect(got.shape == want.shape, "\(name).\(what) shape")
            let err = relativeError(got, want)
            #expect(err <= 1e-5, "\(name).\(what): relative error \(err)")
        }
    }
}

/// maxPool2dForward's fast paths (eight outputs at a time over the windows wholly inside the
/// input, the general kernel on the padded or ceil-mode border) agree exactly with the general
/// kernel everywhere, ties and NaNs included.
struct MaxPoolFastPathTests {
    @Test(arguments: [
        (2, 2, 0, false, 14, 14), (2, 2, 0, false, 28, 22), (2, 2, 0, false, 16, 33), (3, 2, 0, false, 15, 15),
        (2, 1, 0, false, 9, 7), (3, 3, 0, false, 12, 10), (3, 2, 1, false, 56, 56), (3, 2, 1, false, 13, 30),
        (3, 1, 1, false, 12, 20), (3, 2, 0, true, 28, 28), (3, 2, 0, true, 14, 27), (2, 2, 0, true, 15, 15),
        (3, 2, 0, false, 27, 27), (5, 1, 2, false, 9, 11),
    ])
    func fastPathEqualsGeneral(_ c: (Int, Int, Int, Bool, Int, Int)) {
        let (k, s, pad, ceil, h, w) = c
        func out(_ n: Int) -> Int {
            let span = n + 2 * pad - k
            var o = (ceil ? (span + s - 1) / s : span / s) + 1
            if ceil && (o - 1) * s >= n + pad { o -= 1 }      // torch: the last window starts inside
            return o
        }
        let planes = 5, oh = out(h), ow = out(w)
        let win = Window(kernel: [k, k], stride: [s, s], padding: [pad, pad])
        let x = Tensor(zeros: [planes, h, w])
        for i in 0..<x.count { x[i] = Float((i * 37) % 7) - 3 }        // many ties
        x[3 * h * w + 5] = .nan; x[4 * h * w + w + 1] = .nan; x[4 * h * w + 2 * w + 2] = -.nan
        let y1 = Tensor(zeros: [planes, oh, ow]), y2 = Tensor(zeros: [planes, oh, ow])
        var i1 = [Int32](repeating: 0, count: y1.count), i2 = i1
        maxPool2dForward(y1.data, &i1, x.data, planes: planes, h: h, w: w, oh: oh, ow: ow, win)
        maxPool2dGeneral(y2.data, &i2, x.data, planes: planes, h: h, w: w, oh: oh, ow: ow, win)
        #expect(i1 == i2)
        #expect((0..<y1.count).allSatisfy { y1[$0] == y2[$0] || (y1[$0].isNaN && y2[$0].isNaN) })
        #expect((0..<y1.count).contains { y1[$0].isNaN })
        // Without NaNs, the fast path's own result (no fallback) is the same too.
        for i in 0..<x.count where x[i].isNaN { x[i] = 1 }
        maxPool2dForward(y1.data, &i1, x.data, planes: planes, h: h, w: w, oh: oh, ow: ow, win)
        maxPool2dGeneral(y2.data, &i2, x.data, planes: planes, h: h, w: w, oh: oh, ow: ow, win)
        #expect(i1 == i2)
        #expect(y1.values == y2.values)
    }
}
