/// The optimizers `convlens train` offers, with PyTorch's update rules so recipes carry over:
/// - sgd:      p ← p − lr·(g + wd·p)
/// - momentum: b ← μ·b + (g + wd·p) (b = g + wd·p on the first step); p ← p − lr·b   (torch.optim.SGD, momentum=μ, dampening 0)
/// - adam:     m ← β1·m + (1−β1)·g'; v ← β2·v + (1−β2)·g'²; p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε), g' = g + wd·p   (torch.optim.Adam)
public struct Optimizer: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case sgd, momentum, adam }
    public var kind: Kind
    public var lr: Float
    public var weightDecay: Float
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    /// Steps taken (Adam's t).
    public var step: Int = 0
    /// Per-parameter state by state_dict key: momentum buffer, or Adam's m and v.
    public var state: [String: [Float]] = [:]

    public init(kind: Kind, lr: Float, weightDecay: Float = 0) {
        self.kind = kind; self.lr = lr; self.weightDecay = weightDecay
    }

    /// The state tensors to checkpoint, by name (`optimizer.momentum.fc.weight`, …).
    public var stateNames: [String] { state.keys.sorted() }

    public mutating func beginStep() { step += 1 }

    /// Updates one parameter in place from its gradient.
    public mutating func update(_ name: String, param p: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>, count n: Int) {
        let wd = weightDecay
        switch kind {
        case .sgd:
            for i in 0..<n { p[i] -= lr * (g[i] + wd * p[i]) }
        case .momentum:
            let key = "momentum." + name
            if state[key] == nil {
                state[key] = (0..<n).map { g[$0] + wd * p[$0] }
            } else {
                state[key]!.withUnsafeMutableBufferPointer { b in
                    for i in 0..<n { b[i] = momentum * b[i] + g[i] + wd * p[i] }
                }
            }
            state[key]!.withUnsafeBufferPointer { b in for i in 0..<n { p[i] -= lr * b[i] } }
        case .adam:
            let mk = "adam_m." + name, vk = "adam_v." + name
            if state[mk] == nil { state[mk] = [Float](repeating: 0, count: n); state[vk] = [Float](repeating: 0, count: n) }
            let c1 = 1 - pow(beta1, Float(step)), c2 = 1 - pow(beta2, Float(step))
            var m = state.removeValue(forKey: mk)!, v = state.removeValue(forKey: vk)!
            for i in 0..<n {
                let gi = g[i] + wd * p[i]
                m[i] = beta1 * m[i] + (1 - beta1) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
                p[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
            }
            state[mk] = m; state[vk] = v
        }
    }
}

import Foundation
