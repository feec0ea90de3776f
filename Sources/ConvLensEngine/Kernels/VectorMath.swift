import Foundation

// Eight-lane exp for the eval fast path's SiLU and sigmoid epilogues (ConvEpilogue.swift), where
// a libm call per element was a third of EfficientNet-B0's inference. Cephes' expf scheme:
// x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two for an exact reduction), e^r by its degree-6
// minimax polynomial, times 2^n built in the exponent bits. Relative error within 2 ulps of
// Foundation.exp over the float range (tested: VectorExpTests); overflow gives +inf and
// underflow below −87.3 gives 0 (Foundation gives a denormal there), NaN stays NaN.

/// e^x lane by lane.
@inline(__always)
func vexp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    typealias V = SIMD8<Float>
    let hi: Float = 88.72283, lo: Float = -87.33654
    var xc = x.replacing(with: hi, where: x .> hi)
    xc = xc.replacing(with: lo, where: xc .< lo)
    // n = round(x / ln 2) and its integer, both by the 1.5·2^23 trick (adding it leaves the
    // rounded integer in the low mantissa bits): the generic SIMD rounding and Int32 conversions
    // are not specialised into vector instructions, and were most of this function's time.
    let magic = V(repeating: 12_582_912)
    let shifted = xc * 1.442695041 + magic
    let n = shifted - magic
    let r = (xc - n * 0.693359375) - n * -2.12194440e-4
    // Horner's steps as fused multiply-adds (`addingProduct`: one vfmadd each; `p * r + c` is a
    // multiply and an add, twice the instructions, and rounds twice).
    var p = V(repeating: 1.9875691500e-4)
    p = V(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = V(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = V(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = V(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = V(repeating: 5.0000001201e-1).addingProduct(p, r)
    let e = r.addingProduct(p, r * r) + 1
    // 2^n as 2^(n>>1)·2^(n − n>>1): n = 128 (x near the top of the range) has no float exponent
    // of its own, and both halves of n ≥ −126 stay normal. Shifts only: an integer comparison
    // here built its mask lane by lane through memory (three quarters of the time).
    let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    let n1 = ni &>> 1, n2 = ni &- n1
    var y = (e * unsafeBitCast((n1 &+ 127) &<< 23, to: V.self)) * unsafeBitCast((n2 &+ 127) &<< 23, to: V.self)
    y = y.replacing(with: .infinity, where: x .> hi)
    y = y.replacing(with: 0, where: x .< lo)
    return y.replacing(with: x, where: x .!= x)       // NaN in, NaN out
}

/// A function of eight lanes, as a type: `mapInPlace8` specialised for it inlines the function
/// into its loop (a closure argument was called once per eight elements — a call, its argument
/// split into two 128-bit halves and joined again, and every constant reloaded: half of
/// EfficientNet-B0's SiLU epilogue).
protocol LaneFunction { static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> }

/// x / (1 + e^(−x)).
enum SiLULanes: LaneFunction { @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { x / (1 + vexp(-x)) } }
/// 1 / (1 + e^(−x)).
enum SigmoidLanes: LaneFunction { @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + vexp(-x)) } }

/// y[0..<count] = F(y) in place, eight lanes at a time, the tail through the same lanes (padded).
func mapInPlace8<F: LaneFunction>(_ f: F.Type, _ y: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i &+ 8 <= count {
        let p = UnsafeMutableRawPointer(y + i)
        p.storeBytes(of: F.apply(p.loadUnaligned(as: SIMD8<Float>.self)), as: SIMD8<Float>.self)
        i &+= 8
    }
    guard i < count else { return }
    var v = SIMD8<Float>()
    for l in 0..<(count - i) { v[l] = y[i + l] }
    let r = F.apply(v)
    for l in 0..<(count - i) { y[i + l] = r[l] }
}
