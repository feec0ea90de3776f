import ConvLensGraph

/// hash_init (../shared/reference/README.md): deterministic weights anyone can rebuild from a
/// tensor's state_dict key alone, computed in Double and rounded once to Float.
public enum HashInit {
    /// FNV-1a 32-bit of the UTF-8 bytes.
    public static func fnv1a(_ s: String) -> UInt32 {
        var h: UInt32 = 0x811C_9DC5
        for c in s.utf8 { h = (h ^ UInt32(c)) &* 0x0100_0193 }
        return h
    }

    /// The murmur-style finaliser the README names mix32.
    public static func mix32(_ x0: UInt32) -> UInt32 {
        var x = x0
        x ^= x >> 16; x = x &* 0x7FEB_352D; x ^= x >> 15; x = x &* 0x846C_A68B; x ^= x >> 16
        return x
    }

    /// u_k = (mix32(fnv1a(NAME) XOR (k·0x9E3779B9 mod 2^32)) >> 8) / 2^24.
    public static func uniform(_ name: String, count: Int) -> [Double] {
        let h = fnv1a(name)
        return (0..<count).map { k in Double(mix32(h ^ (UInt32(truncatingIfNeeded: k) &* 0x9E37_79B9)) >> 8) / 16_777_216 }
    }

    /// The value table of the README, by the name's last component and the tensor's rank.
    public static func tensor(_ name: String, shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        let last = name.split(separator: ".").last.map(String.init) ?? name
        let u = uniform(name, count: n)
        let v: [Double]
        if shape.count >= 2 {
            let scale = 2 / (Double(n) / Double(shape[0])).squareRoot()     // (u − 0.5) × 2 / sqrt(n / shape[0])
            v = u.map { ($0 - 0.5) * scale }
        } else if last == "running_var" {
            v = u.map { 0.75 + 0.5 * $0 }
        } else if last == "num_batches_tracked" {
            v = u.map { _ in 0 }
        } else if last == "weight" {
            v = u.map { 1 + 0.2 * ($0 - 0.5) }
        } else {
            v = u.map { 0.2 * ($0 - 0.5) }
        }
        return Tensor(shape: shape, values: v.map { Float($0) })
    }

    /// The model input: 2u − 1 under the name `input`.
    public static func input(shape: [Int]) -> Tensor {
        Tensor(shape: shape, values: uniform("input", count: shape.reduce(1, *)).map { Float(2 * $0 - 1) })
    }

    /// target[k] = mix32(fnv1a("target") XOR (k·0x9E3779B9)) mod classes.
    public static func target(count: Int, classes: Int) -> [Int] {
        let h = fnv1a("target")
        return (0..<count).map { k in Int(mix32(h ^ (UInt32(truncatingIfNeeded: k) &* 0x9E37_79B9)) % UInt32(classes)) }
    }

    /// Every state_dict entry of the graph (parameters and buffers).
    public static func stateDict(_ graph: ModelGraph) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for e in graph.stateDict() { out[e.key] = tensor(e.key, shape: e.shape) }
        return out
    }
}
