import Foundation

// The transforms of F(4×4, 3×3) (Conv2dWinograd.swift runs them): interpolation points 0, 1, −1,
// 2, −2 and ∞ (Lavin & Gray's matrices),
//   Bᵀ = [4  0 −5  0 1 0;     G = [ 1/4     0     0;     Aᵀ = [1 1  1 1  1 0;
//         0 −4 −4  1 1 0;          −1/6  −1/6  −1/6;           0 1 −1 2 −2 0;
//         0  4 −4 −1 1 0;          −1/6   1/6  −1/6;           0 1  1 4  4 0;
//         0 −2 −1  2 1 0;           1/24  1/12  1/6;           0 1 −1 8 −8 1]
//         0  2 −1 −2 1 0;           1/24 −1/12  1/6;
//         0  4  0 −5 0 1]           0     0     1]
// each applied as a few shared sums (below), down the columns of the patch and across its rows.

/// F(4×4, 3×3)'s U[36, OC, C] = G·g·Gᵀ for every 3×3 filter g of weight[OC, C, 3, 3].
func winograd4Filters(_ u: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, oc: Int, c: Int, outputs: Range<Int>? = nil) {
    let plane = oc * c
    typealias Six = (Float, Float, Float, Float, Float, Float)
    @inline(__always) func g6(_ a: Float, _ b: Float, _ d: Float) -> Six {
        let q = 0.25 * a + d
        return (0.25 * a, -(a + b + d) / 6, -(a - b + d) / 6, (q + 0.5 * b) / 6, (q - 0.5 * b) / 6, d)
    }
    for o in outputs ?? 0..<oc {
        for ci in 0..<c {
            let g = weight + (o * c + ci) * 9
            // G·g, column by column; then each row i of G·g times Gᵀ.
            let c0 = g6(g[0], g[3], g[6]), c1 = g6(g[1], g[4], g[7]), c2 = g6(g[2], g[5], g[8])
            let dst = u + o * c + ci
            @inline(__always) func put(_ i: Int, _ r: Six) {
                let d = dst + 6 * i * plane
                d[0] = r.0; d[plane] = r.1; d[2 * plane] = r.2; d[3 * plane] = r.3; d[4 * plane] = r.4; d[5 * plane] = r.5
            }
            put(0, g6(c0.0, c1.0, c2.0)); put(1, g6(c0.1, c1.1, c2.1)); put(2, g6(c0.2, c1.2, c2.2))
            put(3, g6(c0.3, c1.3, c2.3)); put(4, g6(c0.4, c1.4, c2.4)); put(5, g6(c0.5, c1.5, c2.5))
        }
    }
}

/// Bᵀ·(d0 … d5), eight tiles at a time.
@inline(__always)
private func inputTransform(_ d0: SIMD8<Float>, _ d1: SIMD8<Float>, _ d2: SIMD8<Float>, _ d3: SIMD8<Float>,
                            _ d4: SIMD8<Float>, _ d5: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1)
    return (4 * (d0 - d2) + c, a + b, a - b, c + e, c - e, 4 * (d1 - d3) + (d5 - d3))
}

/// Aᵀ·(m0 … m5), eight tiles at a time.
@inline(__always)
private func outputTransform(_ m0: SIMD8<Float>, _ m1: SIMD8<Float>, _ m2: SIMD8<Float>, _ m3: SIMD8<Float>,
                             _ m4: SIMD8<Float>, _ m5: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    let s = m1 + m2, d = m1 - m2, s2 = m3 + m4, d2 = m3 - m4
    return (m0 + s + s2, d + 2 * d2, s + 4 * s2, d + 8 * d2 + m5)
}

@inline(__always)
private func load32(_ p: UnsafePointer<Float>) -> SIMD32<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self) }

/// V[36, C, tiles] (rows `ld` apart per (ξ, c)) = Bᵀ·d·B for the tiles of tile rows ty0 ..< ty0+rows.
@inline(never)
func winograd4Input(_ v: UnsafeMutablePointer<Float>, _ xpad: UnsafePointer<Float>, c: Int, hp: Int, wp: Int,
                    tw: Int, ty0: Int, rows: Int, ld: Int, channels: Range<Int>? = nil) {
    typealias V8 = SIMD8<Float>
    let plane = c * ld
    // One patch row for eight tiles (columns 4t … 4t + 5), times B.
    @inline(__always) func rowB(_ p: UnsafePointer<Float>) -> (V8, V8, V8, V8, V8, V8) {
        let a = load32(p), b = load32(p + 4)
        let (ae, ao, be, bo) = (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
        return inputTransform(ae.evenHalf, ao.evenHalf, ae.oddHalf, ao.oddHalf, be.evenHalf, bo.evenHalf)
    }
    for ci in channels ?? 0..<c {
        let xc = xpad + ci * hp * wp
        for r in 0..<rows {
            let top = xc + 4 * (ty0 + r) * wp
            var t = 0
            while t < tw {
                let p = top + 4 * t
                let n = min(8, tw - t), base = v + ci * ld + r * tw + t
                @inline(__always) func put(_ x: V8, _ xi: Int) {
                    let dst = base + xi * plane
                    if n == 8 { UnsafeMutableRawPointer(dst).storeBytes(of: x, as: V8.self) } else { for l in 0..<n { dst[l] = x[l] } }
                }
                let r0 = rowB(p), r1 = rowB(p + wp), r2 = rowB(p + 2 * wp), r3 = rowB(p + 3 * wp), r4 = rowB(p + 4 * wp), r5 = rowB(p + 5 * wp)
                // Bᵀ down each column j; position ξ = 6i + j.
                @inline(__always) func column(_ j: Int, _ d: (V8, V8, V8, V8, V8, V8)) {
                    let t = inputTransform(d.0, d.1, d.2, d.3, d.4, d.5)
                    put(t.0, j); put(t.1, 6 + j); put(t.2, 12 + j); put(t.3, 18 + j); put(t.4, 24 + j); put(t.5, 30 + j)
                }
                column(0, (r0.0, r1.0, r2.0, r3.0, r4.0, r5.0)); column(1, (r0.1, r1.1, r2.1, r3.1, r4.1, r5.1))
                column(2, (r0.2, r1.2, r2.2, r3.2, r4.2, r5.2)); column(3, (r0.3, r1.3, r2.3, r3.3, r4.3, r5.3))
                column(4, (r0.4, r1.4, r2.4, r3.4, r4.4, r5.4)); column(5, (r0.5, r1.5, r2.5, r3.5, r4.5, r5.5))
                t += 8
            }
        }
    }
}

/// y (one image) = Aᵀ·m·A + bias for the tiles of tile rows ty0 ..< ty0+rows, clipped to OH × OW.
/// Loads of a row's last group may read up to 7 floats past the band (the scratch has room).
@inline(never)
func winograd4Output(_ y: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                     oc: Int, oh: Int, ow: Int, tw: Int, ty0: Int, rows: Int, ld: Int, outputs: Range<Int>? = nil,
                     epilogue: ConvEpilogue = .none, g: ConvGeometry? = nil) {
    typealias V8 = SIMD8<Float>
    let plane = oc * ld
    for o in outputs ?? 0..<oc {
        let b = bias?[o] ?? 0
        let yo = y + o * oh * ow
        for r in 0..<rows {
            let oy = 4 * (ty0 + r)
            var t = 0
            while t < tw {
                let at = m + o * ld + r * tw + t
                @inline(__always) func load(_ xi: Int) -> V8 { load8(at + xi * plane) }
                // Aᵀ down each column j, then across each of the four rows.
                @inline(__always) func column(_ j: Int) -> (V8, V8, V8, V8) {
                    outputTransform(load(j), load(6 + j), load(12 + j), load(18 + j), load(24 + j), load(30 + j))
                }
                let k0 = column(0), k1 = column(1), k2 = column(2), k3 = column(3), k4 = column(4), k5 = column(5)
                let n = min(8, tw - t)
                @inline(__always) func store(_ i: Int, _ q: (V8, V8, V8, V8)) {
                    guard oy + i < oh else { return }
                    let row = yo + (oy + i) * ow
                    let (q0, q1, q2, q3) = (q.0 + b, q.1 + b, q.2 + b, q.3 + b)
                    for l in 0..<n {
                        let ox = 4 * (t + l)
                        if ox + 4 <= ow {
                            UnsafeMutableRawPointer(row + ox).storeBytes(of: SIMD4(q0[l], q1[l], q2[l], q3[l]), as: SIMD4<Float>.self)
                        } else {
                            for x in 0..<(ow - ox) { row[ox + x] = x == 0 ? q0[l] : x == 1 ? q1[l] : q2[l] }   // at most three
                        }
                    }
                }
                store(0, outputTransform(k0.0, k1.0, k2.0, k3.0, k4.0, k5.0))
                store(1, outputTransform(k0.1, k1.1, k2.1, k3.1, k4.1, k5.1))
                store(2, outputTransform(k0.2, k1.2, k2.2, k3.2, k4.2, k5.2))
                store(3, outputTransform(k0.3, k1.3, k2.3, k3.3, k4.3, k5.3))
                t += 8
            }
        }
        // The band's output rows of this channel, still in cache: the epilogue (image 0 of `y`).
        if let g, !epilogue.isNone { epilogue.apply(y, image: 0, channel: o, g, range: (4 * ty0 * ow)..<(min(oh, 4 * (ty0 + rows)) * ow)) }
    }
}
