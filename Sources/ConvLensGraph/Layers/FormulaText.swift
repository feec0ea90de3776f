/// 61706 → "61,706"
public func groupedDigits(_ n: Int) -> String {
    let s = String(n.magnitude)
    var out = ""
    for (i, c) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out += "," }
        out.append(c)
    }
    return n < 0 ? "-" + out : out
}

/// Text pieces the kinds' `formulas` share.
public enum FormulaText {
    public static func num(_ n: Int) -> String { groupedDigits(n) }
    /// The exact count when it fits in an Int, else its approximate value (≈ 1.2e+21).
    public static func count(_ n: Int?, _ approx: Double) -> String { n.map(num) ?? "≈ " + approx.formatted3 }
    public static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
    public static func batch(_ n: Int) -> String { n == 1 ? "" : "\(n)·" }
    public static func dims(_ s: [Int]) -> String { s.map(String.init).joined(separator: "·") }

    /// ⌊(n + 2p − d·(k−1) − 1)/s⌋ + 1, written the textbook way when d = 1: ⌊(n + 2p − k)/s⌋ + 1.
    public static func window(_ n: Int, k: Int, s: Int, p: Int, d: Int, ceil: Bool, out: Int) -> String {
        let (l, r) = ceil ? ("⌈", "⌉") : ("⌊", "⌋")
        let inner = d == 1 ? "\(n) + 2·\(p) − \(k)" : "\(n) + 2·\(p) − \(d)·(\(k) − 1) − 1"
        let span = n + 2 * p - d * (k - 1) - 1
        let raw = (ceil ? (span + s - 1) / s : span / s) + 1
        var text = "\(l)(\(inner))/\(s)\(r) + 1 = \(raw)"
        if raw != out { text += " → \(out) (ceil_mode: the last window must start inside the input, (\(raw)−1)·\(s) ≥ \(n) + \(p))" }
        return text
    }

    /// The two output-size lines of a sliding window.
    public static func windowLines(_ x: [Int], _ y: [Int], _ w: Window, ceil: Bool) -> [Formula] {
        (0..<2).map { i in
            Formula(i == 0 ? "output height" : "output width",
                    window(x[2 + i], k: w.kernel[i], s: w.stride[i], p: w.padding[i], d: w.dilation[i], ceil: ceil, out: y[2 + i]))
        }
    }

    /// "weight + bias = total" for a layer's parameters.
    public static func parameterCount(_ weight: String, weightCount: Int, bias: Int?) -> String {
        if let bias { return "\(weight) + \(bias) = \(num(weightCount + bias))" }
        return "\(weight) = \(num(weightCount))  (no bias)"
    }
}

/// torch's `_pair`-style tuple text: (3, 3).
func tuple(_ v: [Int]) -> String { "(" + v.map(String.init).joined(separator: ", ") + ")" }
func numel(_ shape: [Int]) -> Int { shape.reduce(1, *) }
