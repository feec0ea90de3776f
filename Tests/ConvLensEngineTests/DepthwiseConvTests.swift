import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// The direct depthwise kernels (Conv2dDepthwise.swift, Conv2dDepthwiseBlocked.swift) and grouped convolutions. Oracles:
/// ops_modern.safetensors (PyTorch, float64, stored as float32) for every convolution case there,
/// within 1e-5 relative error for y, gx, gw, gb through the engine's dispatch (conv2dForward and
/// conv2dBackward) and, for grouped cases, through the direct kernels too (they take any group
/// width; the engine uses them for depthwise only); and the im2col + GEMM loop over images and
/// groups (one image per GEMM) on random geometries.
struct DepthwiseConvTests {
    static let file: SafeTensors = try! SafeTensors.read(EnginePaths.vectors("ops_modern"))
    static let cases: [String] = file.metadata.keys.sorted().filter { name in
        guard let m = try? JSONSerialization.jsonObject(with: Data(file.metadata[name]!.utf8)) as? [String: Any] else { return false }
        return m["op"] as? String == "conv2d"
    }

    @Test func everyConvolutionHasACase() {
        // Depthwise 3×3, 5×5 stride 2, 7×7 with bias, channel multiplier 2; grouped; the 4×4 stride-4 stem.
        #expect(Self.cases.count == 6)
    }

    @Test(arguments: cases)
    func matchesPyTorch(_ name: String) throws {
        let f = Self.file
        let meta = try #require(try JSONSerialization.jsonObject(with: Data(f.metadata[name]!.utf8)) as? [String: Any])
        func pair(_ k: String, _ d: Int) -> [Int] {
            if let v = meta[k] as? [Int] { return v }
            if let v = meta[k] as? Int { return [v, v] }
            return [d, d]
        }
        let x = try f.tensor("\(name).x"), w = try f.tensor("\(name).w"), yRef = try f.tensor("\(name).y"), gy = try f.tensor("\(name).gy")
        let b = f.entries["\(name).b"] != nil ? try f.tensor("\(name).b") : nil
        let groups = meta["groups"] as? Int ?? 1
        let layer = Conv2d(inChannels: x.shape[1], outChannels: w.shape[0], kernelSize: [w.shape[2], w.shape[3]],
                           stride: pair("stride", 1), padding: pair("padding", 0), dilation: pair("dilation", 1),
                           groups: groups, bias: b != nil)
        let g = ConvGeometry(input: x.shape, output: try layer.outputShape([x.shape]), layer: layer)
        #expect(g.usesDirect == (groups > 1 && groups == x.shape[1]), "\(name) runs the direct kernels")
        let macsRef = layer.macs(LayerCall(inputs: [x.shape], output: yRef.shape, training: false, isModule: true))
        let refs = [try f.tensor("\(name).gx"), try f.tensor("\(name).gw")] + (b != nil ? [try f.tensor("\(name).gb")] : [])
        for direct in groups > 1 && !g.usesDirect ? [false, true] : [g.usesDirect] {
            let col = Tensor(zeros: [max(direct ? BLAS.threads * g.directShareCount : g.colCount, 1)])
            let y = Tensor(zeros: yRef.shape), gx = Tensor(zeros: x.shape), gw = Tensor(zeros: w.shape), gb = b.map { Tensor(zeros: $0.shape) }
            let macs = direct ? directConvForward(y.data, x.data, w.data, b?.data, g, col: col.data)
                              : conv2dForward(y.data, x.data, w.data, b?.data, g, col: col.data)
            #expect(macs == macsRef)
            if direct { directConvBackward(gx.data, gw.data, gb?.data, gy.data, x.data, w.data, g, col: col.data) }
            else { conv2dBackward(gx.data, gw.data, gb?.data, gy.data, x.data, w.data, g, col: col.data) }
            let got = [y, gx, gw] + (gb.map { [$0] } ?? []), want = [yRef] + refs
            for (i, what) in ["y", "gx", "gw", "gb"].prefix(got.count).enumerated() {
                let (got, want) = (got[i], want[i])
                #expect(got.shape == want.shape, "\(name).\(what) shape")
                let err = relativeError(got, want)
                #expect(err <= 1e-5, "\(name).\(what)\(direct ? " (direct)" : ""): relative error \(err)")
            }
        }
    }

    /// One random geometry: batch, input channels, groups, output channels, input size, kernel,
    /// stride, padding, dilation, bias.
    struct Case: Sendable, CustomStringConvertible {
        var n, c, groups, oc, h, w, kh, kw, s, p, d: Int
        var bias = true
        var description: String { "n\(n) c\(c) g\(groups) oc\(oc) \(h)×\(w) k\(kh)×\(kw) s\(s) p\(p) d\(d)\(bias ? " bias" : "")" }
    }

    static let randomCases: [Case] = [
        Case(n: 1, c: 3, groups: 3, oc: 3, h: 7, w: 9, kh: 3, kw: 3, s: 1, p: 1, d: 1),
        Case(n: 2, c: 5, groups: 5, oc: 10, h: 11, w: 13, kh: 3, kw: 3, s: 2, p: 1, d: 1, bias: false),
        Case(n: 3, c: 4, groups: 4, oc: 4, h: 13, w: 10, kh: 5, kw: 5, s: 2, p: 2, d: 1),
        Case(n: 1, c: 6, groups: 6, oc: 12, h: 9, w: 17, kh: 5, kw: 5, s: 1, p: 2, d: 1),
        Case(n: 2, c: 3, groups: 3, oc: 3, h: 15, w: 14, kh: 3, kw: 3, s: 1, p: 2, d: 2),
        Case(n: 1, c: 2, groups: 2, oc: 4, h: 12, w: 19, kh: 3, kw: 3, s: 2, p: 3, d: 3, bias: false),
        Case(n: 2, c: 4, groups: 4, oc: 4, h: 10, w: 10, kh: 7, kw: 7, s: 1, p: 3, d: 1),
        Case(n: 1, c: 3, groups: 3, oc: 6, h: 8, w: 11, kh: 2, kw: 4, s: 2, p: 0, d: 1),
        Case(n: 2, c: 3, groups: 3, oc: 3, h: 9, w: 9, kh: 3, kw: 1, s: 1, p: 0, d: 1),
        Case(n: 1, c: 5, groups: 5, oc: 5, h: 6, w: 7, kh: 3, kw: 3, s: 1, p: 0, d: 1, bias: false),
        Case(n: 3, c: 2, groups: 2, oc: 2, h: 5, w: 6, kh: 3, kw: 3, s: 2, p: 4, d: 1),      // padding past the kernel
        Case(n: 1, c: 3, groups: 3, oc: 6, h: 16, w: 16, kh: 4, kw: 4, s: 4, p: 0, d: 1),    // stride 4: phases with no taps
        Case(n: 2, c: 4, groups: 4, oc: 8, h: 9, w: 8, kh: 1, kw: 1, s: 2, p: 0, d: 1),      // 1×1 stride 2
        Case(n: 3, c: 24, groups: 24, oc: 24, h: 21, w: 35, kh: 3, kw: 3, s: 1, p: 1, d: 1), // parallel, rows of 35
        Case(n: 2, c: 16, groups: 16, oc: 32, h: 23, w: 23, kh: 5, kw: 5, s: 2, p: 2, d: 1), // parallel, multiplier 2
        Case(n: 2, c: 8, groups: 4, oc: 8, h: 9, w: 10, kh: 3, kw: 3, s: 1, p: 1, d: 1),     // grouped, CG = 2
        Case(n: 3, c: 16, groups: 4, oc: 12, h: 11, w: 7, kh: 3, kw: 3, s: 2, p: 1, d: 1),   // CG = 4, OCG = 3
        Case(n: 2, c: 32, groups: 4, oc: 32, h: 14, w: 14, kh: 3, kw: 3, s: 1, p: 1, d: 1),  // CG = 8, parallel
        Case(n: 3, c: 32, groups: 2, oc: 16, h: 8, w: 9, kh: 3, kw: 3, s: 1, p: 1, d: 1),    // CG = 16
        Case(n: 1, c: 12, groups: 3, oc: 6, h: 10, w: 10, kh: 5, kw: 5, s: 2, p: 2, d: 1),   // one image
        Case(n: 2, c: 40, groups: 40, oc: 40, h: 2, w: 2, kh: 3, kw: 3, s: 1, p: 1, d: 1),   // 2×2 maps (MobileNet at 64²)
        Case(n: 2, c: 40, groups: 40, oc: 80, h: 4, w: 3, kh: 3, kw: 3, s: 2, p: 1, d: 1),   // 2×2 outputs, stride 2
        Case(n: 3, c: 8, groups: 8, oc: 8, h: 3, w: 3, kh: 3, kw: 3, s: 1, p: 0, d: 1),      // 1×1 outputs
        Case(n: 2, c: 6, groups: 6, oc: 6, h: 1, w: 1, kh: 3, kw: 3, s: 1, p: 1, d: 1),      // 1×1 maps
        // "Same" padding at stride 1 (Conv2dDepthwiseBlocked.swift): eight channels to a vector, a last
        // partial block (20 = 8 + 8 + 4, 6, 4), planes of HW mod 8 ≠ 0, widths not a multiple of four.
        Case(n: 2, c: 48, groups: 48, oc: 48, h: 7, w: 7, kh: 7, kw: 7, s: 1, p: 3, d: 1),   // ConvNeXt's 7×7 on 7×7, parallel
        Case(n: 2, c: 32, groups: 32, oc: 32, h: 10, w: 10, kh: 5, kw: 5, s: 1, p: 2, d: 1, bias: false),  // the largest plane
        Case(n: 3, c: 20, groups: 20, oc: 20, h: 8, w: 8, kh: 3, kw: 3, s: 1, p: 1, d: 1),   // 64 outputs: whole blocks only
        Case(n: 1, c: 4, groups: 4, oc: 4, h: 3, w: 11, kh: 5, kw: 3, s: 1, p: 1, d: 1),     // kernel taller than wide
        Case(n: 2, c: 6, groups: 6, oc: 6, h: 2, w: 5, kh: 5, kw: 5, s: 1, p: 2, d: 1),      // kernel beyond the plane
        Case(n: 2, c: 11, groups: 11, oc: 11, h: 30, w: 23, kh: 3, kw: 3, s: 1, p: 1, d: 1),  // 3 channels in the last block
        Case(n: 3, c: 9, groups: 9, oc: 9, h: 6, w: 1, kh: 3, kw: 3, s: 1, p: 1, d: 1, bias: false),  // one column: 3 of 4 outputs past it
        Case(n: 1, c: 17, groups: 17, oc: 17, h: 5, w: 9, kh: 7, kw: 7, s: 1, p: 3, d: 1),  // kernel wider than the plane
        Case(n: 2, c: 12, groups: 12, oc: 12, h: 28, w: 28, kh: 3, kw: 3, s: 1, p: 1, d: 1),  // MobileNet's 28×28
        Case(n: 2, c: 16, groups: 16, oc: 16, h: 14, w: 14, kh: 3, kw: 3, s: 1, p: 1, d: 1),  // MobileNet's 14×14: 192 outputs + 4
        Case(n: 1, c: 6, groups: 6, oc: 6, h: 13, w: 15, kh: 5, kw: 5, s: 1, p: 2, d: 1, bias: false),  // 195 outputs
    ]

    /// The engine's dispatch (direct kernels for depthwise; GEMMs per group, batched over the
    /// images on small maps, otherwise), and for grouped geometries the direct kernels as well,
    /// agree with the im2col + GEMM loop over images and groups within 1e-5; the backward
    /// accumulates into gradients that already hold values.
    @Test(arguments: randomCases)
    func directMatchesGEMM(_ t: Case) throws {
        let layer = Conv2d(inChannels: t.c, outChannels: t.oc, kernelSize: [t.kh, t.kw], stride: [t.s, t.s],
                           padding: [t.p, t.p], dilation: [t.d, t.d], groups: t.groups, bias: t.bias)
        let xShape = [t.n, t.c, t.h, t.w], yShape = try layer.outputShape([xShape])
        let g = ConvGeometry(input: xShape, output: yShape, layer: layer)
        #expect(g.usesDirect == (t.groups == t.c))
        var perImage = g
        perImage.imagesPerGEMM = 1
        var seed: UInt32 = 2024
        func random(_ shape: [Int]) -> Tensor {
            let r = Tensor(zeros: shape)
            for i in 0..<r.count { seed = seed &* 1664525 &+ 1013904223; r[i] = Float(seed >> 8) / Float(1 << 24) - 0.5 }
            return r
        }
        let x = random(xShape), w = random([t.oc, t.c / t.groups, t.kh, t.kw]), b = t.bias ? random([t.oc]) : nil
        let dy = random(yShape), dx0 = random(xShape), dw0 = random(w.shape), db0 = random([t.oc])
        let refCol = Tensor(zeros: [max(perImage.serialColCount, 1)])
        let yRef = Tensor(zeros: yShape)
        let refMACs = conv2dForwardImages(yRef.data, x.data, w.data, b?.data, perImage, col: refCol.data, parallel: false)
        #expect(refMACs == g.macs)
        func copy(_ a: Tensor) -> Tensor { Tensor(shape: a.shape, values: a.values) }
        let (dxRef, dwRef, dbRef) = (copy(dx0), copy(dw0), copy(db0))
        conv2dBackwardImages(dxRef.data, dwRef.data, t.bias ? dbRef.data : nil, dy.data, x.data, w.data, perImage, col: refCol.data, parallel: false)

        for direct in g.usesDirect ? [true] : [false, true] {
            let col = Tensor(zeros: [max(direct ? BLAS.threads * g.directShareCount : g.colCount, 1)])
            // y and the gradients are written through pointers into buffers with guard floats after them.
            let guardValue: Float = 1234.5, guarded = 64
            func guardedCopy(_ a: Tensor) -> (Tensor, Tensor) {
                let big = Tensor(shape: [a.count + guarded], values: a.values + [Float](repeating: guardValue, count: guarded))
                return (big, Tensor(shape: a.shape, storage: big.storage))
            }
            func guardsIntact(_ big: Tensor, _ what: String) {
                #expect((big.count - guarded..<big.count).allSatisfy { big[$0] == guardValue }, "\(what) written past its end")
            }
            let (yBig, y) = guardedCopy(Tensor(zeros: yShape))
            let macs = direct ? directConvForward(y.data, x.data, w.data, b?.data, g, col: col.data)
                              : conv2dForward(y.data, x.data, w.data, b?.data, g, col: col.data)
            #expect(macs == g.macs)
            #expect(relativeError(y, yRef) <= 1e-5, "y: \(relativeError(y, yRef))")
            guardsIntact(yBig, "y")
            func backward(_ dx: Tensor?, _ dw: Tensor, _ db: Tensor?) {
                if direct { directConvBackward(dx?.data, dw.data, db?.data, dy.data, x.data, w.data, g, col: col.data) }
                else { conv2dBackward(dx?.data, dw.data, db?.data, dy.data, x.data, w.data, g, col: col.data) }
            }
            let ((dxBig, dx), (dwBig, dw), (dbBig, db)) = (guardedCopy(dx0), guardedCopy(dw0), guardedCopy(db0))
            backward(dx, dw, t.bias ? db : nil)
            guardsIntact(dxBig, "dx"); guardsIntact(dwBig, "dw"); guardsIntact(dbBig, "db")
            for (what, got, want) in [("dx", dx, dxRef), ("dw", dw, dwRef), ("db", db, dbRef)] {
                let err = relativeError(got, want)
                #expect(err <= 1e-5, "\(what)\(direct ? " (direct)" : ""): relative error \(err)")
            }
            // Without dx (the first layer's input needs none) the weight gradient is the same.
            let dw2 = copy(dw0)
            backward(nil, dw2, nil)
            #expect(relativeError(dw2, dwRef) <= 1e-5)
        }
    }

    /// A NaN stays in its channel and its taps' reach, as in PyTorch: eight channels share a
    /// vector in the blocked kernels, and a border is zeros, never a neighbour's values.
    @Test func nanStaysInItsChannel() throws {
        let (c, h) = (12, 7)
        let layer = Conv2d(inChannels: c, outChannels: c, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1],
                           dilation: [1, 1], groups: c, bias: true)
        let shape = [2, c, h, h]
        let g = ConvGeometry(input: shape, output: shape, layer: layer)
        let x = Tensor(shape: shape, values: [Float](repeating: 1, count: 2 * c * h * h))
        x[((1 * c + 3) * h + 3) * h + 3] = .nan                            // image 1, channel 3, pixel (3, 3)
        x[((0 * c + 9) * h + 0) * h + 6] = .infinity                       // image 0, channel 9, a corner
        let w = Tensor(shape: [c, 1, 3, 3], values: [Float](repeating: 0.5, count: c * 9)), b = Tensor(zeros: [c])
        let col = Tensor(zeros: [max(g.colCount, 1)]), y = Tensor(zeros: shape)
        _ = conv2dForward(y.data, x.data, w.data, b.data, g, col: col.data)
        for n in 0..<2 {
            for ch in 0..<c {
                for oy in 0..<h {
                    for ox in 0..<h {
                        let v = y[((n * c + ch) * h + oy) * h + ox]
                        let nan = n == 1 && ch == 3 && abs(oy - 3) <= 1 && abs(ox - 3) <= 1
                        let inf = n == 0 && ch == 9 && oy <= 1 && ox >= 5
                        #expect(nan ? v.isNaN : inf ? v == .infinity : v.isFinite, "y[\(n), \(ch), \(oy), \(ox)] = \(v)")
                    }
                }
            }
        }
        let dy = Tensor(shape: shape, values: [Float](repeating: 1, count: 2 * c * h * h))
        let dx = Tensor(zeros: shape), dw = Tensor(zeros: w.shape), db = Tensor(zeros: [c])
        conv2dBackward(dx.data, dw.data, db.data, dy.data, x.data, w.data, g, col: col.data)
        for ch in 0..<c {
            for q in 0..<9 { #expect(ch == 3 ? dw[ch * 9 + q].isNaN : ch == 9 ? !dw[ch * 9 + q].isNaN : dw[ch * 9 + q].isFinite, "dw[\(ch), \(q)]") }
        }
        #expect((0..<dx.count).allSatisfy { dx[$0].isFinite } && (0..<c).allSatisfy { db[$0] == 98 })
    }
}
