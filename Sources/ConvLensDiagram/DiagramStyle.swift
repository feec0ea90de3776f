import Foundation
import ConvLensGraph

/// Colours, fonts and the compact argument text of diagram nodes: presentation data only.
enum DiagramStyle {
    static let font = "DejaVu Sans"

    /// A legend entry: what a colour stands for.
    struct Swatch: Hashable {
        var title: String
        var fill: String
    }

    /// Fill colour and legend title of each kind of layer (module and functional forms share one).
    /// Exhaustive: a new category must be given a colour here.
    static func swatch(_ c: LayerCategory) -> Swatch {
        switch c {
        case .convolution: return Swatch(title: "convolution", fill: "#b7d7f0")
        case .normalization: return Swatch(title: "normalization", fill: "#fbe7a1")
        case .activation: return Swatch(title: "activation", fill: "#c3ecd0")
        case .pooling: return Swatch(title: "pooling / mean", fill: "#f8d2b0")
        case .linear: return Swatch(title: "Linear", fill: "#dcc6e8")
        case .dropout: return Swatch(title: "Dropout / StochasticDepth", fill: "#e3e6e8")
        case .reshape: return Swatch(title: "reshape / view", fill: "#f0f1f2")
        case .merge: return Swatch(title: "cat / add", fill: "#f29b93")
        case .scale: return Swatch(title: "broadcast multiply", fill: "#f7c1cf")
        case .parameter: return Swatch(title: "parameter", fill: "#fff3c4")
        }
    }
    static let containerFill = "#f4efe4"
    static let inputFill = "#ffffff"
    static let otherFill = "#ffffff"
    /// Cluster backgrounds get darker with nesting so nested containers stay distinguishable.
    static let clusterFills = ["#f6f7f9", "#eceff3", "#e2e6ec", "#d8dde5"]

    static func fill(_ layer: Layer) -> String { swatch(layer.category).fill }

    /// The layer's arguments in a compact form for a node, derived from torch's `extra_repr`:
    /// `3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False` → `3→64  k7×7  s2  p3  no bias`.
    static func arguments(_ layer: Layer) -> String {
        var positional: [String] = []
        var keyed: [String] = []
        var features: (Int?, Int?) = (nil, nil)
        for part in splitTopLevel(layer.spec.extraRepr) {
            guard let eq = part.firstIndex(of: "=") else { positional.append(part); continue }
            let key = String(part[..<eq]), value = String(part[part.index(after: eq)...])
            switch (key, value) {
            case ("in_features", _): features.0 = Int(value)
            case ("out_features", _): features.1 = Int(value)
            case ("kernel_size", _): keyed.append("k" + dims(value, keepPair: true))
            case ("stride", _): keyed.append("s" + dims(value, keepPair: false))
            case ("padding", _): if dims(value, keepPair: false) != "0" { keyed.append("p" + dims(value, keepPair: false)) }
            case ("dilation", _): if dims(value, keepPair: false) != "1" { keyed.append("d" + dims(value, keepPair: false)) }
            case ("groups", _): keyed.append("groups " + value)
            case ("output_size", _): keyed.append("out " + dims(value, keepPair: true))
            case ("ceil_mode", "True"): keyed.append("ceil")
            case ("bias", "False"): keyed.append("no bias")
            case ("p", _): keyed.append("p=" + value)
            case ("dim", _): keyed.append("dim " + value)
            case ("start_dim", _): keyed.append("from dim " + value)
            // Defaults and bookkeeping that say nothing about the architecture.
            case ("eps", _), ("momentum", _), ("affine", _), ("track_running_stats", _), ("inplace", _),
                 ("ceil_mode", _), ("bias", _), ("end_dim", _), ("count_include_pad", _):
                continue
            default: keyed.append(part)
            }
        }
        if let i = features.0, let o = features.1 { positional = ["\(i)", "\(o)"] }
        let channels = positional.count == 2 ? positional.joined(separator: "→") : positional.joined(separator: ", ")
        return ([channels].filter { !$0.isEmpty } + keyed).joined(separator: "  ")
    }

    /// `(3, 3)` → `3×3`; with keepPair false, equal pairs shrink to one number (`(2, 2)` → `2`).
    static func dims(_ value: String, keepPair: Bool) -> String {
        let inner = value.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        let parts = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 1 { return keepPair ? parts[0] + "×" + parts[0] : parts[0] }
        if !keepPair && Set(parts).count == 1 { return parts[0] }
        return parts.joined(separator: "×")
    }

    /// Splits `a, b=(1, 2), c` at commas outside parentheses.
    static func splitTopLevel(_ s: String) -> [String] {
        var out: [String] = [], current = "", level = 0
        for ch in s {
            if ch == "(" { level += 1 } else if ch == ")" { level -= 1 }
            if ch == "," && level == 0 {
                out.append(current.trimmingCharacters(in: .whitespaces)); current = ""
            } else { current.append(ch) }
        }
        let last = current.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { out.append(last) }
        return out
    }

    /// `[1, 64, 56, 56]` → `1×64×56×56`
    static func shape(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }

    /// 61706 → `61,706`
    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }

    /// 115605504 → `115.6M`; three significant figures from K upwards.
    static func compact(_ n: Int) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")]
        let x = Double(n)
        for (scale, unit) in units where x >= scale {
            let v = x / scale
            let digits = v >= 100 ? 0 : (v >= 10 ? 1 : 2)
            return String(format: "%.\(digits)f", v) + unit
        }
        return String(n)
    }

    /// Escapes text for a Graphviz HTML-like label.
    static func html(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}
