import ConvLensGraph
import Foundation

extension Summary {
    /// The summary in a format: text is torchinfo's layout; the others carry the same rows and cells.
    public func render(_ format: TableFormat, depth: Int = 3, columns: [SummaryColumn] = SummaryColumn.torchinfoDefault) -> String {
        switch format {
        case .text: return text(depth: depth, columns: columns)
        case .json: return json(depth: depth, columns: columns)
        case .csv: return csv(depth: depth, columns: columns)
        case .markdown: return markdown(depth: depth, columns: columns)
        }
    }

    func shown(_ depth: Int) -> [SummaryRow] { rows.filter { $0.depth <= depth } }

    var totalsPairs: [(String, Int)] {
        [("total_params", totalParams), ("trainable_params", trainableParams), ("non_trainable_params", totalParams - trainableParams),
         ("total_mult_adds", totalMultAdds), ("input_bytes", inputBytes), ("forward_backward_bytes", forwardBackwardBytes),
         ("param_bytes", paramBytes), ("estimated_total_bytes", inputBytes + forwardBackwardBytes + paramBytes)]
    }

    func json(depth: Int, columns: [SummaryColumn]) -> String {
        var s = "{\"model\": \(jsonQuoted(analysis.model)), \"input_shape\": \(list(analysis.inputShape)), \"depth\": \(depth),\n \"rows\": [\n"
        s += shown(depth).map { r in
            var o = "  {\"layer\": \(jsonQuoted(r.label)), \"name\": \(jsonQuoted(r.row?.name ?? "")), \"type\": \(jsonQuoted(r.className)), "
            o += "\"depth\": \(r.depth), \"depth_index\": \(r.depthIndex), \"output_shape\": \(list(r.outputShape)), "
            o += "\"params\": \(r.params), \"recursive\": \(r.isRecursive), \"cells\": {"
            o += columns.map { "\(jsonQuoted($0.rawValue)): \(jsonQuoted(cell($0, r, reachedMaxDepth: r.depth == depth)))" }.joined(separator: ", ")
            return o + "}}"
        }.joined(separator: ",\n")
        s += "\n ],\n \"totals\": {" + totalsPairs.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}}\n"
        return s
    }

    func csv(depth: Int, columns: [SummaryColumn]) -> String {
        func quote(_ v: String) -> String { v.contains(",") || v.contains("\"") ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v }
        var s = (["layer", "name", "depth"] + columns.map(\.rawValue)).joined(separator: ",") + "\n"
        for r in shown(depth) {
            s += ([r.label, r.row?.name ?? "", String(r.depth)] + columns.map { cell($0, r, reachedMaxDepth: r.depth == depth) })
                .map(quote).joined(separator: ",") + "\n"
        }
        return s
    }

    func markdown(depth: Int, columns: [SummaryColumn]) -> String {
        var s = "| Layer (type:depth-idx) | " + columns.map(\.title).joined(separator: " | ") + " |\n"
        s += "|---|" + String(repeating: "---|", count: columns.count) + "\n"
        for r in shown(depth) {
            let name = String(repeating: "&nbsp;&nbsp;", count: r.depth) + r.label
            s += "| " + ([name] + columns.map { cell($0, r, reachedMaxDepth: r.depth == depth) }).joined(separator: " | ") + " |\n"
        }
        s += "\n"
        s += "- Total params: \(groupedDigits(totalParams))\n- Trainable params: \(groupedDigits(trainableParams))\n"
        s += "- Non-trainable params: \(groupedDigits(totalParams - trainableParams))\n"
        s += "- Total mult-adds (torchinfo): \(groupedDigits(totalMultAdds))\n"
        s += "- Input size (MB): \(formatFixed2(Double(inputBytes) / 1e6))\n"
        s += "- Forward/backward pass size (MB): \(formatFixed2(Double(forwardBackwardBytes) / 1e6))\n"
        s += "- Params size (MB): \(formatFixed2(Double(paramBytes) / 1e6))\n"
        return s
    }
}
