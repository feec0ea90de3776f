import ConvLensGraph
import Foundation

// The eval-mode fast path's convolution epilogue (see InferencePlan.swift): what the nodes after a
// convolution would have done to its output — a residual add and an element-wise activation — done
// while each plane is still in cache. Each element goes through the same operations in the same
// order as the unfused nodes (bias, then + residual, then the activation), so results differ from
// the node-by-node path only by rounding: where batch-norm folding rounded the weights
// (InferencePlan.foldBatchNorm), and in SiLU and sigmoid, whose eight-lane forms (VectorMath.swift)
// are within 4 ulps of the scalar formulas.

/// An activation applied by a convolution's epilogue.
enum EpilogueActivation: Sendable {
    case relu
    case function(Activation)
}

/// What a convolution does to each output element after the multiply-accumulates and bias.
struct ConvEpilogue: @unchecked Sendable {
    /// Added element by element: a tensor of the output's layout [N, OC, OH, OW] (ResNet's identity).
    var residual: UnsafePointer<Float>? = nil
    var activation: EpilogueActivation? = nil
    /// Not an epilogue but the other thing the fast path hands a convolution: its filters
    /// transformed once per weights (`Engine.transformedFilters`) instead of per call —
    /// Winograd's U [α², OC, C], or the 1×1 kernel's packed panels.
    var transformedFilters: UnsafePointer<Float>? = nil
    static let none = ConvEpilogue()
    /// No per-element work (the filters do not count).
    var isNone: Bool { residual == nil && activation == nil }

    /// The epilogue of images `from…` of the batch (the residual advanced to image `from`).
    func images(from n0: Int, _ g: ConvGeometry) -> ConvEpilogue {
        var e = self
        e.residual = residual.map { $0 + n0 * g.oc * g.ohw }
        return e
    }

    /// Output channel `o` of image `n`, elements `range` of the plane (OH·OW), which already hold
    /// the convolution plus bias: adds the residual and applies the activation in place.
    @inline(__always)
    func apply(_ y: UnsafeMutablePointer<Float>, image n: Int, channel o: Int, _ g: ConvGeometry, range: Range<Int>) {
        let at = (n * g.oc + o) * g.ohw + range.lowerBound
        apply(y + at, residual: residual.map { $0 + at }, count: range.count)
    }

    /// y[0..<count] = act(y + residual).
    func apply(_ y: UnsafeMutablePointer<Float>, residual r: UnsafePointer<Float>?, count: Int) {
        if let r { for i in 0..<count { y[i] += r[i] } }
        guard let activation else { return }
        switch activation {
        case .relu: for i in 0..<count { y[i] = reluValue(y[i]) }
        case .function(let a):
            // One loop per function, so each is specialised (and the piecewise ones vectorise).
            let (slope, tanhApprox) = (Float(a.slope), a.approximate == "tanh")
            switch a.function {
            case .relu6: for i in 0..<count { y[i] = ActivationFunction.relu6.value(y[i], slope: slope, tanhApproximation: tanhApprox) }
            case .hardswish: for i in 0..<count { y[i] = ActivationFunction.hardswish.value(y[i], slope: slope, tanhApproximation: tanhApprox) }
            case .hardsigmoid: for i in 0..<count { y[i] = ActivationFunction.hardsigmoid.value(y[i], slope: slope, tanhApproximation: tanhApprox) }
            // x / (1 + e^(−x)) and 1 / (1 + e^(−x)) as the kernels write them, eight lanes at a time (VectorMath.swift).
            case .silu: mapInPlace8(SiLULanes.self, y, count: count)
            case .sigmoid: mapInPlace8(SigmoidLanes.self, y, count: count)
            case .leakyRelu: for i in 0..<count { y[i] = ActivationFunction.leakyRelu.value(y[i], slope: slope, tanhApproximation: tanhApprox) }
            case .tanh, .gelu: for i in 0..<count { y[i] = a.function.value(y[i], slope: slope, tanhApproximation: tanhApprox) }
            }
        }
    }

    /// The whole output y[N, OC, OH, OW] of images `images` of g (for kernels that finish an image at a time).
    func apply(_ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry, images: Range<Int>) {
        guard !isNone, !images.isEmpty else { return }
        let at = images.lowerBound * g.oc * g.ohw
        apply(y + at, residual: residual.map { $0 + at }, count: images.count * g.oc * g.ohw)
    }
}

/// Batch norm with running statistics folded into the convolution before it (as ONNX exporters
/// do): weight′[o] = weight[o]·s[o] and bias′[o] = (bias[o] − mean[o])·s[o] + β[o], where
/// s[o] = γ[o]/√(var[o] + ε) — the scale and shift of `batchNorm2dEvalForward`, computed the same
/// way. `weight` is [OC, K]; `folded` receives OC·K weights then OC biases.
func foldBatchNorm(into folded: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                   gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, runningMean: UnsafePointer<Float>,
                   runningVar: UnsafePointer<Float>, eps: Double, oc: Int, k: Int) {
    let foldedBias = folded + oc * k
    for o in 0..<oc {
        let istd = 1 / (Double(runningVar[o]) + eps).squareRoot()
        let scale = Float(istd) * (gamma?[o] ?? 1), shift = (beta?[o] ?? 0) - runningMean[o] * scale
        let src = weight + o * k, dst = folded + o * k
        for q in 0..<k { dst[q] = src[q] * scale }
        foldedBias[o] = (bias?[o] ?? 0) * scale + shift
    }
}
