import ConvLensGraph

// Pooling over NCHW planes. Legend: P = N·C planes, H W input, OH OW output (from the graph node,
// which applied torch's ceil-mode rule: the last window must start inside the input or left padding).

/// y[P, OH, OW] = max over each window; indices[P, OH, OW] = argmax within the plane (ih·W + iw).
/// Padding never wins (torch pads with −∞); the first maximum wins ties; NaN propagates.
func maxPool2dForward(_ y: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>, _ x: UnsafePointer<Float>,
                      planes: Int, h: Int, w: Int, oh: Int, ow: Int, _ win: Window) {
    let (kh, kw, sh, sw) = (win.kernel[0], win.kernel[1], win.stride[0], win.stride[1])
    let (ph, pw) = (win.padding[0], win.padding[1])
    // The outputs whose window lies wholly inside the input: rows iLo..<iHi, columns jLo..<jHi.
    func inside(pad: Int, stride: Int, k: Int, n: Int, count: Int) -> Range<Int> {
        let lo = min(count, (pad + stride - 1) / stride)
        let hi = n - k + pad < 0 ? lo : max(lo, min(count, (n - k + pad) / stride + 1))
        return lo..<hi
    }
    let rows = inside(pad: ph, stride: sh, k: kh, n: h, count: oh), cols = inside(pad: pw, stride: sw, k: kw, n: w, count: ow)
    let simd = win.dilation == [1, 1] && kw <= 3 && (sw == 1 || sw == 2)
    guard simd, !rows.isEmpty, !cols.isEmpty else {
        return maxPool2dGeneral(y, indices, x, planes: planes, h: h, w: w, oh: oh, ow: ow, win)
    }
    // Windows that padding or ceil mode clip: the general kernel, on the border only.
    for (r, c) in [(0..<rows.lowerBound, 0..<ow), (rows.upperBound..<oh, 0..<ow), (rows, 0..<cols.lowerBound), (rows, cols.upperBound..<ow)]
    where !r.isEmpty && !c.isEmpty {
        maxPool2dGeneral(y, indices, x, planes: planes, h: h, w: w, oh: oh, ow: ow, win, rows: r, cols: c)
    }
    // The interior, eight outputs at a time. A plane holding a NaN is redone by the general
    // kernel, which has torch's exact NaN rule.
    for p in 0..<planes {
        let xp = x + p * h * w, yp = y + p * oh * ow, ip = indices + p * oh * ow
        let readable = (planes - p) * h * w
        let sawNaN = maxPoolInterior(yp, ip, xp, w: w, ow: ow, kh: kh, kw: kw, sh: sh, sw: sw, ph: ph, pw: pw,
                                     rows: rows, cols: cols, readable: readable)
        if sawNaN { maxPool2dGeneral(yp, ip, xp, planes: 1, h: h, w: w, oh: oh, ow: ow, win) }
    }
}

/// Max pooling of one plane's interior outputs (windows wholly inside the input; kernel width ≤ 3,
/// stride 1 or 2 across, no dilation), eight outputs of a row at a time. A tap column of eight
/// windows is one 8-float load (stride 1) or the even or odd lanes of a 16-float load (stride 2);
/// taps are visited in row-major window order with strict >, so the first maximum wins as in torch.
/// Loads may reach past the row into the next (read, never written) within `readable` floats.
/// Returns whether a NaN was seen (lanes past the row's end may raise it needlessly).
func maxPoolInterior(_ y: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>, _ x: UnsafePointer<Float>,
                     w: Int, ow: Int, kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int,
                     rows: Range<Int>, cols: Range<Int>, readable: Int) -> Bool {
    var nan = SIMDMask<SIMD8<Int32>>(repeating: false)
    let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &* Int32(sw)
    let span = sw == 1 ? 8 + kw - 1 : 16 + (kw > 2 ? 2 : 0)      // floats a tap row's loads cover
    var scalarFrom: [(Int, Int)] = []                              // (row, column) where loads would overrun
    for i in rows {
        let top = i &* sh &- ph
        var j = cols.lowerBound
        while j < cols.upperBound {
            let c = j &* sw &- pw
            if (top &+ kh &- 1) &* w &+ c &+ span > readable { scalarFrom.append((i, j)); break }
            var best = SIMD8<Float>(repeating: 0), at = SIMD8<Int32>(repeating: 0)
            for a in 0..<kh {
                let r = (top &+ a) &* w &+ c
                let row = x + r
                for b in 0..<kw {
                    let v: SIMD8<Float>
                    if sw == 1 {
                        v = UnsafeRawPointer(row + b).loadUnaligned(as: SIMD8<Float>.self)
                    } else {
                        let pair = UnsafeRawPointer(row + (b & ~1)).loadUnaligned(as: SIMD16<Float>.self)
                        v = b & 1 == 0 ? pair.evenHalf : pair.oddHalf
                    }
                    nan = nan .| (v .!= v)
                    let q = lanes &+ Int32(truncatingIfNeeded: r &+ b)
                    if a == 0 && b == 0 { best = v; at = q; continue }
                    let m = v .> best
                    best.replace(with: v, where: m); at.replace(with: q, where: m)
                }
            }
            let n = min(8, cols.upperBound &- j), yr = y + (i &* ow &+ j), ir = indices + (i &* ow &+ j)
            if n == 8 {
                UnsafeMutableRawPointer(yr).storeBytes(of: best, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(ir).storeBytes(of: at, as: SIMD8<Int32>.self)
            } else {
                for t in 0..<n { yr[t] = best[t]; ir[t] = at[t] }
            }
            j &+= 8
        }
    }
    var sawNaN = any(nan)
    // The last outputs of the tensor, where eight-wide loads would read past its end: one by one.
    for (i, j0) in scalarFrom {
        let top = i &* sh &- ph
        for j in j0..<cols.upperBound {
            let c = j &* sw &- pw
            var at = top &* w &+ c, best = x[at]
            for a in 0..<kh {
                for b in 0..<kw {
                    let q = (top &+ a) &* w &+ c &+ b, v = x[q]
                    if v != v { sawNaN = true }
                    if v > best { best = v; at = q }
                }
            }
            y[i &* ow &+ j] = best
            indices[i &* ow &+ j] = Int32(truncatingIfNeeded: at)
        }
    }
    return sawNaN
}

/// maxPool2dForward for any window: padding, dilation, windows clipped by ceil mode.
func maxPool2dGeneral(_ y: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>, _ x: UnsafePointer<Float>,
                      planes: Int, h: Int, w: Int, oh: Int, ow: Int, _ win: Window, rows: Range<Int>? = nil, cols: Range<Int>? = nil) {
    let rows = rows ?? 0..<oh, cols = cols ?? 0..<ow
    let (kh, kw, sh, sw) = (win.kernel[0], win.kernel[1], win.stride[0], win.stride[1])
    let (ph, pw, dh, dw) = (win.padding[0], win.padding[1], win.dilation[0], win.dilation[1])
    // Valid kernel taps per output column, computed once: b in bLo[j]..<bHi[j] keeps iw inside.
    var bLo = [Int](repeating: 0, count: ow), bHi = [Int](repeating: 0, count: ow)
    for j in 0..<ow {
        let base = j * sw - pw
        var lo = 0, hi = kw
        while lo < kw && base + lo * dw < 0 { lo += 1 }
        while hi > lo && base + (hi - 1) * dw >= w { hi -= 1 }
        bLo[j] = lo; bHi[j] = hi
    }
    bLo.withUnsafeBufferPointer { bLo in
        bHi.withUnsafeBufferPointer { bHi in
            for p in 0..<planes {
                let xp = x + p * h * w, yp = y + p * oh * ow, ip = indices + p * oh * ow
                for i in rows {
                    var aLo = 0, aHi = kh
                    let hbase = i * sh - ph
                    while aLo < kh && hbase + aLo * dh < 0 { aLo += 1 }
                    while aHi > aLo && hbase + (aHi - 1) * dh >= h { aHi -= 1 }
                    for j in cols {
                        let wbase = j * sw - pw, b0 = bLo[j], b1 = bHi[j]
                        guard aLo < aHi && b0 < b1 else { yp[i * ow + j] = -.infinity; ip[i * ow + j] = -1; continue }
                        // Fast scan with selects (no unpredictable branches); seeded with the first tap,
                        // strictly greater keeps the first maximum.
                        var at = (hbase + aLo * dh) * w + wbase + b0 * dw
                        var best = xp[at], sawNaN: UInt8 = 0
                        for a in aLo..<aHi {
                            let row = (hbase + a * dh) * w + wbase
                            for b in b0..<b1 {
                                let q = row &+ b &* dw, v = xp[q]
                                sawNaN |= v != v ? 1 : 0
                                let gt = v > best
                                best = gt ? v : best; at = gt ? q : at
                            }
                        }
                        if sawNaN != 0 {
                            // Exact rule: NaN wins and ends the row's scan (later rows may still replace it with a NaN).
                            best = -.infinity; at = -1
                            for a in aLo..<aHi {
                                let row = (hbase + a * dh) * w + wbase
                                for b in b0..<b1 {
                                    let q = row + b * dw, v = xp[q]
                                    if at < 0 || v > best || v.isNaN { best = v; at = q; if v.isNaN { break } }
                                }
                            }
                        }
                        yp[i * ow + j] = best
                        ip[i * ow + j] = Int32(truncatingIfNeeded: at)
                    }
                }
            }
        }
    }
}

/// dx[P, H, W] += dy routed to each window's argmax; with `positive` (the pooled output of a fused
/// ReLU), only where that output is > 0.
func maxPool2dBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ indices: UnsafePointer<Int32>,
                       planes: Int, h: Int, w: Int, oh: Int, ow: Int, positive: UnsafePointer<Float>? = nil) {
    for p in 0..<planes {
        let dxp = dx + p * h * w, dyp = dy + p * oh * ow, ip = indices + p * oh * ow
        if let positive {
            let yp = positive + p * oh * ow
            for q in 0..<(oh * ow) where ip[q] >= 0 && yp[q] > 0 { dxp[Int(ip[q])] += dyp[q] }
        } else {
            for q in 0..<(oh * ow) where ip[q] >= 0 { dxp[Int(ip[q])] += dyp[q] }
        }
    }
}

/// torch's avg_pool2d window and divisor for output (i, j): the window is clipped to the padded
/// input (end = min(start + k, n + p)), pool_size counted there, then clipped to the input;
/// divisor = pool_size with count_include_pad, else the number of input cells.
@inline(__always)
func avgWindow(_ i: Int, k: Int, s: Int, p: Int, n: Int) -> (start: Int, end: Int, padded: Int) {
    let start = i * s - p
    let end = min(start + k, n + p)
    return (max(start, 0), min(end, n), end - start)
}

/// y[P, OH, OW] = windowed mean of x[P, H, W].
func avgPool2dForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                      oh: Int, ow: Int, _ win: Window, countIncludePad: Bool) {
    for p in 0..<planes {
        let xp = x + p * h * w, yp = y + p * oh * ow
        for i in 0..<oh {
            let (h0, h1, hp) = avgWindow(i, k: win.kernel[0], s: win.stride[0], p: win.padding[0], n: h)
            for j in 0..<ow {
                let (w0, w1, wp) = avgWindow(j, k: win.kernel[1], s: win.stride[1], p: win.padding[1], n: w)
                var s: Float = 0
                for a in h0..<max(h0, h1) { for b in w0..<max(w0, w1) { s += xp[a * w + b] } }
                let divisor = countIncludePad ? hp * wp : (h1 - h0) * (w1 - w0)
                yp[i * ow + j] = s / Float(divisor)
            }
        }
    }
}

/// dx[P, H, W] += dy / divisor spread over each window.
func avgPool2dBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                       oh: Int, ow: Int, _ win: Window, countIncludePad: Bool) {
    for p in 0..<planes {
        let dxp = dx + p * h * w, dyp = dy + p * oh * ow
        for i in 0..<oh {
            let (h0, h1, hp) = avgWindow(i, k: win.kernel[0], s: win.stride[0], p: win.padding[0], n: h)
            for j in 0..<ow {
                let (w0, w1, wp) = avgWindow(j, k: win.kernel[1], s: win.stride[1], p: win.padding[1], n: w)
                let divisor = countIncludePad ? hp * wp : (h1 - h0) * (w1 - w0)
                let g = dyp[i * ow + j] / Float(divisor)
                for a in h0..<max(h0, h1) { for b in w0..<max(w0, w1) { dxp[a * w + b] += g } }
            }
        }
    }
}

/// y[P, OH, OW]: mean over torch's adaptive bins, start = ⌊i·n/o⌋, end = ⌈(i+1)·n/o⌉.
func adaptiveAvgPool2dForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, oh: Int, ow: Int) {
    let hb = AdaptiveAvgPool2d.bins(input: h, output: oh), wb = AdaptiveAvgPool2d.bins(input: w, output: ow)
    // Each bin's rows summed eight lanes at a time (`sum`; a single running sum was one dependent
    // add per element, 6% of EfficientNet-B0's inference in its squeeze-excitation pools), the
    // planes shared among the threads.
    parallelChunks(planes, work: planes * h * w) { chunk in
        for p in chunk {
            let xp = x + p * h * w, yp = y + p * oh * ow
            for i in 0..<oh {
                for j in 0..<ow {
                    let (b0, b1) = wb[j]
                    var s: Float = 0
                    if b0 == 0 && b1 == w { s = sum(xp + hb[i].0 * w, count: (hb[i].1 - hb[i].0) * w) }  // whole rows: one run
                    else { for a in hb[i].0..<hb[i].1 { s += sum(xp + a * w + b0, count: b1 - b0) } }
                    yp[i * ow + j] = s / Float((hb[i].1 - hb[i].0) * (b1 - b0))
                }
            }
        }
    }
}

/// dx[P, H, W] += dy / bin size over each bin.
func adaptiveAvgPool2dBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, planes: Int, h: Int, w: Int, oh: Int, ow: Int) {
    let hb = AdaptiveAvgPool2d.bins(input: h, output: oh), wb = AdaptiveAvgPool2d.bins(input: w, output: ow)
    for p in 0..<planes {
        let dxp = dx + p * h * w, dyp = dy + p * oh * ow
        for i in 0..<oh {
            for j in 0..<ow {
                let g = dyp[i * ow + j] / Float((hb[i].1 - hb[i].0) * (wb[j].1 - wb[j].0))
                for a in hb[i].0..<hb[i].1 { for b in wb[j].0..<wb[j].1 { dxp[a * w + b] += g } }
            }
        }
    }
}
