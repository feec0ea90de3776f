import ConvLensGraph
import Foundation

/// Forward and backward of the element-wise activations beyond ReLU (`Activation`): y = f(x) and
/// dx += dy · f'(x), from the saved input. NaN propagates as in PyTorch (every formula passes a NaN
/// input through; the clamps use comparisons that are false for NaN and keep x).
extension ActivationFunction {
    @inline(__always)
    func value(_ x: Float, slope: Float, tanhApproximation: Bool) -> Float {
        switch self {
        case .relu6: return x.isNaN ? x : min(max(x, 0), 6)
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .silu: return x / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .hardsigmoid: return x.isNaN ? x : min(max(x + 3, 0), 6) / 6
        case .hardswish: return x.isNaN ? x : x * min(max(x + 3, 0), 6) / 6
        case .leakyRelu: return x >= 0 || x.isNaN ? x : slope * x
        case .gelu:
            if tanhApproximation {
                let k: Float = 0.7978845608028654        // √(2/π)
                return 0.5 * x * (1 + Foundation.tanh(k * (x + 0.044715 * x * x * x)))
            }
            return 0.5 * x * (1 + Foundation.erf(x * 0.7071067811865476))
        }
    }

    /// f'(x), with PyTorch's choices at the kinks (relu6: 0 at 0 and 6; hardswish: torch's
    /// piecewise x/3 + 1/2 inside (−3, 3); leaky: slope below 0).
    @inline(__always)
    func derivative(_ x: Float, slope: Float, tanhApproximation: Bool) -> Float {
        switch self {
        case .relu6: return x > 0 && x < 6 ? 1 : (x.isNaN ? x : 0)
        case .sigmoid:
            let s = 1 / (1 + Foundation.exp(-x)); return s * (1 - s)
        case .silu:
            let s = 1 / (1 + Foundation.exp(-x)); return s * (1 + x * (1 - s))
        case .tanh:
            let t = Foundation.tanh(x); return 1 - t * t
        case .hardsigmoid: return x > -3 && x < 3 ? 1 / 6 : (x.isNaN ? x : 0)
        case .hardswish:
            if x.isNaN { return x }
            if x < -3 { return 0 }
            if x > 3 { return 1 }
            return x / 3 + 0.5
        case .leakyRelu: return x > 0 ? 1 : (x.isNaN ? x : slope)
        case .gelu:
            if tanhApproximation {
                let k: Float = 0.7978845608028654
                let inner = k * (x + 0.044715 * x * x * x)
                let t = Foundation.tanh(inner)
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
            }
            let cdf = 0.5 * (1 + Foundation.erf(x * 0.7071067811865476))
            let pdf = Foundation.exp(-0.5 * x * x) * 0.3989422804014327
            return cdf + x * pdf
        }
    }
}

/// y = f(x) over `count` elements. The switch over the function is taken once, outside the loop:
/// each case's loop inlines `value` for a constant function, so the piecewise-linear ones (selects
/// only) vectorise (with the switch inside the loop, MobileNetV2's ReLU6 ran element by element:
/// a quarter of its training step).
func activationForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, _ a: Activation) {
    let (slope, tanhApprox) = (Float(a.slope), a.approximate == "tanh")
    @inline(__always) func map(_ f: ActivationFunction) {
        for i in 0..<count { y[i] = f.value(x[i], slope: slope, tanhApproximation: tanhApprox) }
    }
    switch a.function {
    case .relu6: map(.relu6)
    case .hardsigmoid: map(.hardsigmoid)
    case .hardswish: map(.hardswish)
    case .leakyRelu: map(.leakyRelu)
    case .sigmoid: map(.sigmoid)
    case .silu: map(.silu)
    case .tanh: map(.tanh)
    case .gelu: map(.gelu)
    }
}

/// dx += dy · f'(x) over `count` elements (the switch outside the loop, as in forward).
func activationBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, _ a: Activation) {
    let (slope, tanhApprox) = (Float(a.slope), a.approximate == "tanh")
    @inline(__always) func accumulate(_ f: ActivationFunction) {
        for i in 0..<count { dx[i] += dy[i] * f.derivative(x[i], slope: slope, tanhApproximation: tanhApprox) }
    }
    switch a.function {
    case .relu6: accumulate(.relu6)
    case .hardsigmoid: accumulate(.hardsigmoid)
    case .hardswish: accumulate(.hardswish)
    case .leakyRelu: accumulate(.leakyRelu)
    case .sigmoid: accumulate(.sigmoid)
    case .silu: accumulate(.silu)
    case .tanh: accumulate(.tanh)
    case .gelu: accumulate(.gelu)
    }
}

/// y = f(x) with each element on the piece its `base` value chose (verify's finite differences
/// across a kink see the linear piece the analytic gradient uses, as ReLU masks are frozen).
func activationForwardFrozen(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ base: UnsafePointer<Float>, count: Int, _ a: Activation) {
    let (f, slope, tanhApprox) = (a.function, Float(a.slope), a.approximate == "tanh")
    for i in 0..<count {
        let (v, b) = (x[i], base[i])
        switch f {
        case .relu6: y[i] = b <= 0 ? 0 : (b >= 6 ? 6 : v)
        case .hardsigmoid: y[i] = b <= -3 ? 0 : (b >= 3 ? 1 : (v + 3) / 6)
        case .hardswish: y[i] = b <= -3 ? 0 : (b >= 3 ? v : v * (v + 3) / 6)
        case .leakyRelu: y[i] = b >= 0 ? v : slope * v
        case .sigmoid, .silu, .tanh, .gelu: y[i] = f.value(v, slope: slope, tanhApproximation: tanhApprox)
        }
    }
}

extension Activation: KindKernel {
    /// dx = dy · f'(x) reads the input.
    var keeps: KernelKeeps { .inputs }
    func parameterKeys(_ call: KernelCall) -> [String] { [] }
    /// N(0, 2²) inputs kept off the kinks (ReLU6: 0 and 6; hard sigmoid/swish: ±3; leaky ReLU: 0);
    /// whole-model checks keep each element on its base point's piece.
    var probe: GradientProbe {
        let kinks: [Float]
        switch function {
        case .relu6: kinks = [0, 6]
        case .hardsigmoid, .hardswish: kinks = [-3, 3]
        case .leakyRelu: kinks = [0]
        case .sigmoid, .silu, .tanh, .gelu: kinks = []
        }
        let affine = [.relu6, .hardsigmoid, .leakyRelu].contains(function)
        return GradientProbe(step: 1e-2, scale: 2, kinks: kinks, freezesInput: !kinks.isEmpty, piecewiseAffine: affine)
    }

    func forward(_ call: KernelCall, _ xs: [Tensor]) throws(EngineError) -> Tensor {
        let x = xs[0]
        let y = Tensor(uninitialized: x.shape)
        let (yp, xp) = (y.data, x.data)
        if let base = call.frozenInput {      // verify's replay: pieces fixed at the base point
            activationForwardFrozen(yp, xp, base.data, count: x.count, self)
            return y
        }
        parallelChunks(x.count, work: 8 * x.count) { r in activationForward(yp + r.lowerBound, xp + r.lowerBound, count: r.count, self) }
        return y
    }

    func backward(_ call: KernelCall, dy: Tensor, dxs: [Tensor?], xs: [Tensor?], y: Tensor?) throws(EngineError) {
        let x = try call.input(xs)
        guard let dx = dxs[0]?.data else { return }
        let (dyp, xp) = (dy.data, x.data)
        parallelChunks(dy.count, work: 8 * dy.count) { r in activationBackward(dx + r.lowerBound, dyp + r.lowerBound, xp + r.lowerBound, count: r.count, self) }
    }
}
