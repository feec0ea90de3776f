import Foundation

// Eight-lane exp for the eval fast path's SiLU and sigmoid epilogues (ConvEpilogue.swift), where
// a libm call per element was a third of EfficientNet-B0's inference. Cephes' expf scheme:
// x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two for an exact reduction), e^r by its degree-6
// minimax polynomial (`expReduced`), times 2^n built in the exponent bits. The logistic needs only
// a narrow range (`onePlusExpNeg`); VectorExpTests checks the reduction and polynomial over the
// whole float range (within 2 ulps of Foundation.exp) and the lanes against the scalar formulas.

/// e^r·(2^n) split as (e^r, n) for xc = n·ln 2 + r in [−87.3, 88.7].
@inline(__always)
func expReduced(_ xc: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Int32>) {
    typealias V = SIMD8<Float>
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
    return (e, unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self))
}

/// 1 + e^(−x), as the logistic needs it: e^(−x) only where it can change the sum. Below
/// −x = −20, 1 + e^(−x) rounds to 1 whatever e^(−x) is, so the argument is clamped there; above
/// 87.3 it is clamped too (the logistic is then below 1.2·10⁻³⁸, and the callers replace it by
/// the exact formula's 0). In that range n = round(−x / ln 2) lies in [−29, 126], so 2^n is
/// added to e^r's exponent bits in one integer add: none of the full-range exp's two-step
/// scaling and special cases (VectorExpTests' `vexp`): a fifth fewer instructions in
/// EfficientNet's SiLU epilogues.
@inline(__always)
func onePlusExpNeg(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var t = -x
    t = t.replacing(with: 87.3, where: t .> 87.3)
    t = t.replacing(with: -20, where: t .< -20)
    let (e, ni) = expReduced(t)
    return unsafeBitCast(unsafeBitCast(e, to: SIMD8<Int32>.self) &+ (ni &<< 23), to: SIMD8<Float>.self) + 1
}

/// A function of eight lanes, as a type: `mapInPlace8` specialised for it inlines the function
/// into its loop (a closure argument was called once per eight elements — a call, its argument
/// split into two 128-bit halves and joined again, and every constant reloaded: half of
/// EfficientNet-B0's SiLU epilogue).
protocol LaneFunction { static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> }

/// x / (1 + e^(−x)); below x = −87.3 (where the formula gives less than 10⁻³⁶ in size, and x / ∞ = −0
/// below −88.7) −0, and NaN for x = −∞ as the formula gives.
enum SiLULanes: LaneFunction {
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        (x / onePlusExpNeg(x)).replacing(with: x * 0, where: x .< -87.3)
    }
}
/// 1 / (1 + e^(−x)); below x = −87.3 (the formula: less than 1.2·10⁻³⁸, and 1 / ∞ = 0 below −88.7) 0.
/// NaN in, NaN out.
enum SigmoidLanes: LaneFunction {
    @inline(__always) static func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
        (1 / onePlusExpNeg(x)).replacing(with: 0, where: x .< -87.3).replacing(with: x, where: x .!= x)
    }
}

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
