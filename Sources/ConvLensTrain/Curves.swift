import Foundation

/// curves.svg: loss (left) and accuracy (right) per epoch, train and test, as a person would put
/// them in a slide. Plain SVG with no dependencies; fonts fall back to sans-serif.
public enum Curves {
    public static func svg(_ records: [EpochRecord], title: String) -> String {
        let w = 900.0, h = 380.0
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(w / 2)" y="26" text-anchor="middle" font-size="17" font-weight="bold">\(escape(title))</text>

        """
        let epochs = records.map { Double($0.epoch) }
        let losses = records.flatMap { [$0.trainLoss, $0.testLoss] }.filter(\.isFinite)
        let accs = records.flatMap { [$0.trainAcc, $0.testAcc] }.filter(\.isFinite)
        let lossMax = niceCeil((losses.max() ?? 1) * 1.05)
        let accMin = max(0, floor(((accs.min() ?? 0) - 0.02) * 10) / 10)   // a multiple of 10%
        s += panel(x: 60, y: 64, w: 370, h: 260, title: "Loss (cross-entropy)", xs: epochs, series: [
            ("train", records.map(\.trainLoss), "#1f77b4", false), ("test", records.map(\.testLoss), "#d62728", true)],
            yMin: 0, yMax: lossMax, percent: false, ticks: 5)
        s += panel(x: 510, y: 64, w: 370, h: 260, title: "Accuracy", xs: epochs, series: [
            ("train", records.map(\.trainAcc), "#1f77b4", false), ("test", records.map(\.testAcc), "#d62728", true)],
            yMin: accMin, yMax: 1, percent: true, ticks: max(1, Int(((1 - accMin) * 10).rounded())))
        s += "</svg>\n"
        return s
    }

    static func niceCeil(_ v: Double) -> Double {
        guard v > 0 else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func panel(x: Double, y: Double, w: Double, h: Double, title: String, xs: [Double],
                      series: [(String, [Double], String, Bool)], yMin: Double, yMax: Double, percent: Bool, ticks: Int) -> String {
        let xMin = 1.0, xMax = max(xs.max() ?? 1, 2)
        func px(_ v: Double) -> Double { x + (v - xMin) / (xMax - xMin) * w }
        func py(_ v: Double) -> Double { y + h - (v - yMin) / max(yMax - yMin, 1e-12) * h }
        var s = "<g>\n<text x=\"\(x + w / 2)\" y=\"\(y - 8)\" text-anchor=\"middle\" font-size=\"14\">\(title)</text>\n"
        s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#444\"/>\n"
        for i in 0...ticks {
            let v = yMin + (yMax - yMin) * Double(i) / Double(ticks)
            let label = percent ? String(format: "%.0f%%", v * 100) : String(format: v < 10 ? "%.2f" : "%.0f", v)
            s += "<line x1=\"\(x)\" y1=\"\(py(v))\" x2=\"\(x + w)\" y2=\"\(py(v))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(x - 6)\" y=\"\(py(v) + 4)\" text-anchor=\"end\" font-size=\"11\">\(label)</text>\n"
        }
        let step = max(1, Int((xMax - xMin) / 10))
        var e = Int(xMin)
        while Double(e) <= xMax {
            s += "<text x=\"\(px(Double(e)))\" y=\"\(y + h + 16)\" text-anchor=\"middle\" font-size=\"11\">\(e)</text>\n"
            e += step
        }
        s += "<text x=\"\(x + w / 2)\" y=\"\(y + h + 34)\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n"
        for (i, (name, values, color, dashed)) in series.enumerated() {
            let pts = zip(xs, values).filter { $0.1.isFinite }.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
            s += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.2\"\(dashed ? " stroke-dasharray=\"6,3\"" : "")/>\n"
            for (xv, yv) in zip(xs, values) where yv.isFinite {
                s += "<circle cx=\"\(px(xv))\" cy=\"\(py(yv))\" r=\"3\" fill=\"\(color)\"/>"
            }
            let ly = y + 16 + Double(i) * 16
            s += "\n<line x1=\"\(x + w - 80)\" y1=\"\(ly - 4)\" x2=\"\(x + w - 58)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"2.2\"\(dashed ? " stroke-dasharray=\"6,3\"" : "")/>"
            s += "<text x=\"\(x + w - 52)\" y=\"\(ly)\" font-size=\"12\">\(name)</text>\n"
        }
        return s + "</g>\n"
    }
}
