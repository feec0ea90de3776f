import Foundation

/// accuracy_vs_compute.svg: x = GMACs (log scale), y = accuracy, bubble area ∝ parameters, every
/// point labelled; torchvision's published ImageNet top-1 (filled) and ConvLens's measured
/// Fashion-MNIST accuracy (hollow) told apart. Plain, deterministic SVG.
public enum ComparePlot {
    public static func svg(_ rows: [ModelComparison]) -> String {
        let w = 960.0, h = 600.0
        let l = 90.0, r = 150.0, t = 70.0, b = 80.0
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
        func radius(_ p: Int) -> Double { 30 * (Double(p) / maxParams).squareRoot() + 3 }   // area ∝ parameters (+3 px so tiny nets show)
        var placed = Labels(plot: (l, t, pw, ph))

        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(w / 2)" y="30" text-anchor="middle" font-size="20" font-weight="bold">Accuracy vs. compute</text>
        <text x="\(w / 2)" y="52" text-anchor="middle" font-size="13" fill="#555">filled: ImageNet top-1 (torchvision, published, default input) · hollow: Fashion-MNIST test accuracy (ConvLens, at the size it trained on)</text>
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
        s += "<text x=\"\(l + pw / 2)\" y=\"\(h - 30)\" text-anchor=\"middle\" font-size=\"14\">GMACs per image (log scale, eval mode)</text>\n"
        s += "<text transform=\"translate(24 \(t + ph / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">accuracy</text>\n"
        for (i, row) in rows.enumerated() {
            let x = px(macs[i]), rad = radius(row.inference_params)
            if let top1 = row.imagenet_top1 {
                s += "<circle cx=\"\(f(x))\" cy=\"\(f(py(top1)))\" r=\"\(f(rad))\" fill=\"#1f77b4\" fill-opacity=\"0.45\" stroke=\"#1f77b4\" stroke-width=\"1.5\"/>\n"
                s += placed.add(row.name + String(format: " %.1f%%", top1), x: x + rad + 4, y: py(top1) + 4, anchorY: py(top1), color: "#174f80")
            }
            if let fm = row.fashion_mnist_acc {
                let y = py(fm * 100)
                let x = px(fashionMacs[i])
                s += "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(rad))\" fill=\"none\" stroke=\"#d95f02\" stroke-width=\"2.5\"/>\n"
                let limited = (row.fashion_mnist_train_images ?? 60000) < 60000 ? " (short run)" : ""
                s += placed.add(row.name + String(format: " %.1f%%", fm * 100) + limited, x: x + rad + 4, y: y + 4, anchorY: y, color: "#a04000")
            }
            if row.imagenet_top1 == nil && row.fashion_mnist_acc == nil {
                s += "<line x1=\"\(f(x))\" y1=\"\(t + ph - 6)\" x2=\"\(f(x))\" y2=\"\(t + ph)\" stroke=\"#888\" stroke-width=\"2\"/>"
                s += placed.add(row.name + " (no accuracy yet)", x: x + 4, y: t + ph - 10, anchorY: t + ph - 10, color: "#666")
            }
        }
        // legend: bubble sizes, right of the plot
        let lx = l + pw + 24
        var ly = t + 10
        s += "<text x=\"\(f(lx))\" y=\"\(f(ly))\" font-size=\"12\" fill=\"#333\">parameters</text>\n"
        s += "<text x=\"\(f(lx))\" y=\"\(f(ly + 15))\" font-size=\"12\" fill=\"#333\">(eval):</text>\n"
        ly += 30
        for p in [1_000_000, 10_000_000, 100_000_000] where Double(p) <= maxParams * 1.5 {
            let rad = radius(p)
            s += "<circle cx=\"\(f(lx + 32))\" cy=\"\(f(ly + rad))\" r=\"\(f(rad))\" fill=\"none\" stroke=\"#999\"/>"
            s += "<text x=\"\(f(lx + 70))\" y=\"\(f(ly + rad + 4))\" font-size=\"11\" fill=\"#333\">\(p / 1_000_000)M</text>\n"
            ly += 2 * rad + 14
        }
        return s + "</svg>\n"
    }

    /// Greedy label placement: a label that would overlap one already placed moves down or up
    /// in 15-pixel steps, with a thin leader line back to its point.
    struct Labels {
        var plot: (Double, Double, Double, Double)
        var boxes: [(x0: Double, y0: Double, x1: Double, y1: Double)] = []

        mutating func add(_ text: String, x: Double, y: Double, anchorY: Double, color: String) -> String {
            let w = Double(text.count) * 7.4, h = 15.0
            var best = y
            for k in [0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5] {
                let yy = y + Double(k) * 15
                let box = (x0: x, y0: yy - h + 3, x1: x + w, y1: yy + 3)
                if !boxes.contains(where: { $0.x0 < box.x1 && box.x0 < $0.x1 && $0.y0 < box.y1 && box.y0 < $0.y1 }) { best = yy; break }
            }
            boxes.append((x, best - h + 3, x + w, best + 3))
            var s = ""
            if abs(best - y) > 1 {
                s += "<line x1=\"\(f(x - 3))\" y1=\"\(f(anchorY))\" x2=\"\(f(x))\" y2=\"\(f(best - 4))\" stroke=\"\(color)\" stroke-width=\"0.8\"/>"
            }
            return s + ComparePlot.label(text, x: x, y: best, color: color)
        }
    }

    static func label(_ text: String, x: Double, y: Double, color: String) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"13\" fill=\"\(color)\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\(text)</text>\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func tick(_ g: Double) -> String {
        g >= 1 ? String(format: "%.0f", g) : String(format: "%g", g)
    }
}
