import Foundation

/// accuracy_vs_compute.svg: x = GMACs (log scale), y = accuracy, bubble area ∝ parameters, every
/// point labelled; torchvision's published ImageNet top-1 (filled) and ConvLens's measured
/// Fashion-MNIST accuracy (hollow) told apart. Plain, deterministic SVG.
public enum ComparePlot {
    /// One colour per family, in the registry's family order (a colour-blind-safe-ish cycle).
    static let palette = ["#0067A5", "#F38400", "#008856", "#BE0032", "#875692", "#882D17", "#E68FAC", "#848482", "#8DB600",
                          "#2B3D26", "#F3C300", "#604E97", "#F99379", "#654522", "#B3446C", "#A1CAF1", "#E25822", "#DCD300",
                          "#C2B280", "#222222"]

    public static func svg(_ rows: [ModelComparison]) -> String {
        let w = 1400.0, h = 860.0
        let l = 90.0, r = 230.0, t = 70.0, b = 80.0
        let pw = w - l - r, ph = h - t - b
        let macs = rows.map { Double(max($0.macs, 1)) / 1e9 }
        let fashionMacs = rows.map { Double(max($0.fashion_mnist_macs ?? $0.macs, 1)) / 1e9 }
        let allMacs = macs + fashionMacs
        let lo = pow(10, floor(log10(allMacs.min() ?? 1e-4))), hi = pow(10, ceil(log10(allMacs.max() ?? 10)))
        func px(_ g: Double) -> Double { l + (log10(g) - log10(lo)) / (log10(hi) - log10(lo)) * pw }
        let accs = rows.compactMap(\.imagenet_top1) + rows.compactMap { $0.fashion_mnist_acc.map { $0 * 100 } }
        let yLo = max(0, floor(((accs.min() ?? 55) - 5) / 10) * 10), yHi = 100.0
        func py(_ acc: Double) -> Double { t + ph - (acc - yLo) / (yHi - yLo) * ph }
        let maxParams = Double(rows.map(\.inference_params).max() ?? 1)
        func radius(_ p: Int) -> Double { 22 * (Double(p) / maxParams).squareRoot() + 3 }   // area ∝ parameters (+3 px so tiny nets show)
        var families: [String] = []
        for row in rows where !families.contains(row.family) { families.append(row.family) }
        func color(_ family: String) -> String { palette[(families.firstIndex(of: family) ?? 0) % palette.count] }
        var placed = Labels(plot: (l, t, pw, ph))

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(w / 2)" y="30" text-anchor="middle" font-size="20" font-weight="bold">Accuracy vs. compute: \(rows.count) models</text>
        <text x="\(w / 2)" y="52" text-anchor="middle" font-size="13" fill="#555">filled, joined per family: ImageNet top-1 (torchvision, published, default input) · hollow: Fashion-MNIST test accuracy (ConvLens, at the size it trained on) · area ∝ parameters</text>
        <rect x="\(l)" y="\(t)" width="\(pw)" height="\(ph)" fill="none" stroke="#444"/>

        """
        var d = lo
        while d <= hi * 1.0001 {
            let x = px(d)
            s += "<line x1=\"\(f(x))\" y1=\"\(t)\" x2=\"\(f(x))\" y2=\"\(t + ph)\" stroke=\"#e3e3e3\"/>"
            s += "<text x=\"\(f(x))\" y=\"\(t + ph + 20)\" text-anchor=\"middle\" font-size=\"12\">\(tick(d))</text>\n"
            d *= 10
        }
        for acc in stride(from: yLo, through: yHi, by: 10) {
            s += "<line x1=\"\(l)\" y1=\"\(f(py(acc)))\" x2=\"\(l + pw)\" y2=\"\(f(py(acc)))\" stroke=\"#e3e3e3\"/>"
            s += "<text x=\"\(l - 8)\" y=\"\(f(py(acc) + 4))\" text-anchor=\"end\" font-size=\"12\">\(Int(acc))%</text>\n"
        }
        s += "<text x=\"\(l + pw / 2)\" y=\"\(h - 30)\" text-anchor=\"middle\" font-size=\"14\">GMACs per image (log scale, eval mode, each model's default input)</text>\n"
        s += "<text transform=\"translate(24 \(t + ph / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">accuracy</text>\n"
        // Each family's ImageNet points joined in order of compute: the family's frontier.
        for fam in families {
            let pts = rows.indices.filter { rows[$0].family == fam && rows[$0].imagenet_top1 != nil }.sorted { macs[$0] < macs[$1] }
            guard pts.count > 1 else { continue }
            let path = pts.map { "\(f(px(macs[$0]))),\(f(py(rows[$0].imagenet_top1!)))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color(fam))\" stroke-width=\"1.5\" stroke-opacity=\"0.7\"/>\n"
        }
        // Bubbles first (largest underneath), then labels, so no bubble covers a label.
        let order = rows.indices.sorted { rows[$0].inference_params > rows[$1].inference_params }
        for i in order {
            let row = rows[i]
            let x = px(macs[i]), rad = radius(row.inference_params), c = color(row.family)
            if let top1 = row.imagenet_top1 {
                s += "<circle cx=\"\(f(x))\" cy=\"\(f(py(top1)))\" r=\"\(f(rad))\" fill=\"\(c)\" fill-opacity=\"0.35\" stroke=\"\(c)\" stroke-width=\"1.2\"><title>\(row.name): \(String(format: "%.3f", top1))% top-1, \(String(format: "%.3f", macs[i])) GMACs</title></circle>\n"
            }
            if let fm = row.fashion_mnist_acc {
                s += "<circle cx=\"\(f(px(fashionMacs[i])))\" cy=\"\(f(py(fm * 100)))\" r=\"\(f(rad))\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"2.5\"/>\n"
            }
        }
        for (i, row) in rows.enumerated() {
            let x = px(macs[i]), rad = radius(row.inference_params), c = color(row.family)
            if let top1 = row.imagenet_top1 {
                s += placed.add(row.name, x: x + rad * 0.7 + 3, y: py(top1) + 4, anchorY: py(top1), color: c, size: 10, optional: true)
            }
            if let fm = row.fashion_mnist_acc {
                let y = py(fm * 100), fx = px(fashionMacs[i])
                let limited = (row.fashion_mnist_train_images ?? 60000) < 60000 ? " (short run)" : ""
                s += placed.add(row.name + String(format: " %.1f%%", fm * 100) + limited, x: fx + rad + 4, y: y + 4, anchorY: y, color: c, size: 11)
            }
            if row.imagenet_top1 == nil && row.fashion_mnist_acc == nil {
                s += "<line x1=\"\(f(x))\" y1=\"\(t + ph - 6)\" x2=\"\(f(x))\" y2=\"\(t + ph)\" stroke=\"#888\" stroke-width=\"2\"/>"
                s += placed.add(row.name + " (no accuracy yet)", x: x + 4, y: t + ph - 10, anchorY: t + ph - 10, color: "#666", size: 10)
            }
        }
        // Legend right of the plot: families, then bubble sizes.
        let lx = l + pw + 20
        var ly = t + 8
        s += "<text x=\"\(f(lx))\" y=\"\(f(ly))\" font-size=\"12\" font-weight=\"bold\" fill=\"#333\">family</text>\n"
        ly += 16
        for fam in families {
            s += "<rect x=\"\(f(lx))\" y=\"\(f(ly - 9))\" width=\"12\" height=\"10\" fill=\"\(color(fam))\" fill-opacity=\"0.6\" stroke=\"\(color(fam))\"/>"
            s += "<text x=\"\(f(lx + 18))\" y=\"\(f(ly))\" font-size=\"11\" fill=\"#333\">\(fam.isEmpty ? "other" : fam) (\(rows.filter { $0.family == fam }.count))</text>\n"
            ly += 15
        }
        ly += 12
        s += "<text x=\"\(f(lx))\" y=\"\(f(ly))\" font-size=\"12\" font-weight=\"bold\" fill=\"#333\">parameters (eval)</text>\n"
        ly += 10
        for p in [1_000_000, 10_000_000, 100_000_000] where Double(p) <= maxParams * 1.5 {
            let rad = radius(p)
            s += "<circle cx=\"\(f(lx + 26))\" cy=\"\(f(ly + rad))\" r=\"\(f(rad))\" fill=\"none\" stroke=\"#999\"/>"
            s += "<text x=\"\(f(lx + 60))\" y=\"\(f(ly + rad + 4))\" font-size=\"11\" fill=\"#333\">\(p / 1_000_000)M</text>\n"
            ly += 2 * rad + 10
        }
        return s + "</svg>\n"
    }

    /// Greedy label placement: a label that would overlap one already placed moves down or up
    /// in 15-pixel steps, with a thin leader line back to its point.
    struct Labels {
        var plot: (Double, Double, Double, Double)
        var boxes: [(x0: Double, y0: Double, x1: Double, y1: Double)] = []

        /// `optional`: leave the label out when no free place is near (the point keeps its tooltip).
        mutating func add(_ text: String, x xIn: Double, y: Double, anchorY: Double, color: String, size: Double = 13, optional: Bool = false) -> String {
            let w = Double(text.count) * size * 0.57, h = size + 2
            // Labels that would leave the plot on the right go to the left of their point.
            let x = xIn + w > plot.0 + plot.2 ? xIn - w - 2 * (xIn - plot.0 - plot.2 + w > 0 ? 8 : 0) : xIn
            var best = y
            var free = false
            for k in [0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5] {
                let yy = y + Double(k) * h
                let box = (x0: x, y0: yy - h + 3, x1: x + w, y1: yy + 3)
                if !boxes.contains(where: { $0.x0 < box.x1 && box.x0 < $0.x1 && $0.y0 < box.y1 && box.y0 < $0.y1 }) { best = yy; free = true; break }
            }
            if optional && !free { return "" }
            boxes.append((x, best - h + 3, x + w, best + 3))
            var s = ""
            if abs(best - y) > 1 {
                s += "<line x1=\"\(f(x - 3))\" y1=\"\(f(anchorY))\" x2=\"\(f(x))\" y2=\"\(f(best - 4))\" stroke=\"\(color)\" stroke-width=\"0.8\"/>"
            }
            return s + ComparePlot.label(text, x: x, y: best, color: color, size: size)
        }
    }

    static func label(_ text: String, x: Double, y: Double, color: String, size: Double = 13) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\" fill=\"\(color)\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\(text)</text>\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func tick(_ g: Double) -> String {
        g >= 1 ? String(format: "%.0f", g) : String(format: "%g", g)
    }
}
