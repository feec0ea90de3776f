import ConvLensGraph
import Foundation

extension Summary {
    /// torchinfo's printed table, byte for byte for the default columns (col_width 25).
    public func text(depth maxDepth: Int = 3, columns: [SummaryColumn] = SummaryColumn.torchinfoDefault) -> String {
        let colWidth = 25
        // set_layer_name_width: longest "label" + depth·5 + 1 over all rows, rounded up to 5, at least 40.
        let longest = rows.map { $0.label.unicodeScalars.count + $0.depth * 5 + 1 }.max() ?? 0
        let nameWidth = longest >= 40 ? (longest + 4) / 5 * 5 : 40
        let divider = String(repeating: "=", count: columns.count * colWidth + nameWidth)

        func line(_ name: String, _ cells: [String]) -> String {
            var s = pad(name, nameWidth) + " "
            for c in cells { s += pad(c, colWidth) + " " }
            while s.last == " " { s.removeLast() }
            return s + "\n"
        }

        var out = divider + "\n" + line("Layer (type:depth-idx)", columns.map(\.title)) + divider + "\n"
        for r in rows where r.depth <= maxDepth {
            out += line(prefix(r.depth) + r.label, columns.map { cell($0, r, reachedMaxDepth: r.depth == maxDepth) })
        }
        let total = totalParams, trainable = trainableParams
        out += divider + "\n"
        out += "Total params: \(groupedDigits(total))\n"
        out += "Trainable params: \(groupedDigits(trainable))\n"
        out += "Non-trainable params: \(groupedDigits(total - trainable))\n"
        out += "Total mult-adds\(Summary.readable(totalMultAdds))\n" + divider + "\n"
        let mb = { (b: Int) in formatFixed2(Double(b) / 1e6) }
        out += "Input size (MB): \(mb(inputBytes))\n"
        out += "Forward/backward pass size (MB): \(mb(forwardBackwardBytes))\n"
        out += "Params size (MB): \(mb(paramBytes))\n"
        out += "Estimated Total Size (MB): \(mb(inputBytes + forwardBackwardBytes + paramBytes))\n"
        return out + divider + "\n"
    }

    /// ModelStatistics.format_output_num with Units.AUTO as Python ≥ 3.11 prints it:
    /// " (Units.GIGABYTES): 1.50" (the enum's repr leaks into the text; kept for byte equality).
    static func readable(_ n: Int) -> String {
        let (unit, v): (String, Double) = Double(n) >= 1e12 ? ("TERABYTES", Double(n) / 1e12)
            : Double(n) >= 1e9 ? ("GIGABYTES", Double(n) / 1e9) : ("MEGABYTES", Double(n) / 1e6)
        let value = v == v.rounded() ? groupedDigits(Int(v)) : groupedFixed2(v)
        return " (Units.\(unit)): \(value)"
    }

    /// "│    " per level below the first, then "└─"; "├─" at depth 1.
    func prefix(_ depth: Int) -> String {
        depth == 0 ? "" : depth == 1 ? "├─" : String(repeating: "│    ", count: depth - 1) + "└─"
    }

    func cell(_ c: SummaryColumn, _ r: SummaryRow, reachedMaxDepth: Bool) -> String {
        switch c {
        case .output: return r.outputShape.isEmpty ? "--" : list(r.outputShape)
        case .input: return (r.row?.inputShapes.first ?? analysis.inputShape).isEmpty ? "--" : list(r.row?.inputShapes.first ?? analysis.inputShape)
        case .params:
            // LayerInfo.num_params_to_str
            if r.params == 0 { return "--" }
            if r.isRecursive { return "(recursive)" }
            if reachedMaxDepth || r.isLeaf {
                return r.trainableParams > 0 ? groupedDigits(r.params) : "(\(groupedDigits(r.params)))"
            }
            return r.leftover > 0 ? groupedDigits(r.leftover) : "--"
        case .multadds:
            // LayerInfo.macs_to_str: leaves show theirs; containers at the depth limit their leaf children's.
            if r.torchinfoMacs <= 0 { return "--" }
            if r.isLeaf { return groupedDigits(r.torchinfoMacs) }
            if reachedMaxDepth {
                let i = rows.firstIndex { $0.row?.name == r.row?.name && $0.depthIndex == r.depthIndex && $0.depth == r.depth }!
                var s = 0, j = i + 1
                while j < rows.count, rows[j].depth > r.depth { if rows[j].isLeaf { s += rows[j].torchinfoMacs }; j += 1 }
                return groupedDigits(s)
            }
            return "--"
        case .kernel: return r.row.flatMap { kernelText($0) } ?? "--"
        case .macs: return nonZero(r.row?.macs ?? analysis.totals.macs)
        case .flops: return nonZero(r.row?.flops ?? analysis.totals.flops)
        case .rf:
            let f = r.row?.rf ?? analysis.row(node: analysis.graph.output)?.rf ?? .input
            return "\(f.size[0])×\(f.size[1])" + (f.aligned ? "" : "*")
        case .memory: return groupedDigits(r.row?.outputBytes ?? numel(r.outputShape) * Memory.floatBytes)
        }
    }

    /// torchinfo's get_kernel_size, from the kind's own answer.
    func kernelText(_ r: AnalysisRow) -> String? {
        guard r.kind == .module, let n = r.node else { return nil }
        return analysis.graph.nodes[n].spec.summaryKernel
    }
}

func list(_ v: [Int]) -> String { "[" + v.map(String.init).joined(separator: ", ") + "]" }
func nonZero(_ v: Int) -> String { v == 0 ? "--" : groupedDigits(v) }

/// Python's f"{s:<w}": pads with spaces to w code points, never truncates.
func pad(_ s: String, _ w: Int) -> String {
    let n = s.unicodeScalars.count
    return n >= w ? s : s + String(repeating: " ", count: w - n)
}

/// Python's f"{x:0.2f}" (correctly rounded, half-even on the binary value, like printf).
func formatFixed2(_ x: Double) -> String {
    String(format: "%.2f", x)
}

/// Python's f"{x:,.2f}".
func groupedFixed2(_ x: Double) -> String {
    let s = formatFixed2(x)
    let parts = s.split(separator: ".", maxSplits: 1)
    let whole = Int(parts[0])!
    return groupedDigits(whole) + (parts.count > 1 ? "." + parts[1] : "")
}
