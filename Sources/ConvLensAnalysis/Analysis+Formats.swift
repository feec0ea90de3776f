import ConvLensGraph
import Foundation

/// Output formats shared by `convlens analyze` and `convlens summary`.
public enum TableFormat: String, Sendable, CaseIterable {
    case text, json, csv, markdown
}

extension Analysis {
    /// The analysis in a format. JSON keeps the documented contract's keys and order.
    public func render(_ format: TableFormat) -> String {
        switch format {
        case .json: return json()
        case .csv: return csv()
        case .markdown: return markdown()
        case .text: return text()
        }
    }

    // MARK: JSON

    public func json() -> String {
        var s = "{\"model\": \(jsonQuoted(model)), \"input_shape\": \(list(inputShape)), \"mode\": \"\(mode.rawValue)\", "
        s += "\"convention\": \"\(convention.rawValue)\",\n \"layers\": [\n"
        s += rows.map { r in
            "  {\"name\": \(jsonQuoted(r.name)), \"type\": \(jsonQuoted(r.type)), \"kind\": \"\(r.kind.rawValue)\", \"depth\": \(r.depth), "
                + "\"input_shapes\": [\(r.inputShapes.map(list).joined(separator: ", "))], \"output_shape\": \(list(r.outputShape)), "
                + "\"params\": \(r.params), \"trainable_params\": \(r.trainableParams), \"buffers\": \(r.buffers), "
                + "\"macs\": \(r.macs), \"flops\": \(r.flops), \"rf\": \(rfJSON(r.rf)), \"rf_spatial\": \(r.spatialRF.map(rfJSON) ?? "null"), \"output_bytes\": \(r.outputBytes), "
                + "\"repeated\": \(r.repeated), \"train_only\": \(r.trainOnly)}"
        }.joined(separator: ",\n")
        let t = totals
        s += "\n ],\n \"totals\": {\"params\": \(t.params), \"trainable_params\": \(t.trainableParams), "
        s += "\"non_trainable_params\": \(t.nonTrainableParams), \"buffers\": \(t.buffers), \"macs\": \(t.macs), \"flops\": \(t.flops), "
        s += "\"param_bytes\": \(t.paramBytes), \"activation_bytes\": \(t.activationBytes), \"training_bytes\": \(t.trainingBytes), "
        s += "\"buffer_bytes\": \(t.bufferBytes), \"input_bytes\": \(t.inputBytes)}}\n"
        return s
    }

    func rfJSON(_ f: ReceptiveField) -> String {
        "{\"size\": \(list(f.size)), \"jump\": \(list(f.jump)), \"start\": [\(f.start.map(number).joined(separator: ", "))], \"aligned\": \(f.aligned)}"
    }

    // MARK: CSV

    public func csv() -> String {
        var s = "name,type,kind,depth,input_shapes,output_shape,params,trainable_params,buffers,macs,flops,"
        s += "rf_size_h,rf_size_w,rf_jump_h,rf_jump_w,rf_start_h,rf_start_w,rf_aligned,output_bytes\n"
        for r in rows {
            let cells: [String] = [r.name, r.type, r.kind.rawValue, String(r.depth), r.inputShapes.map(shapeText).joined(separator: " "),
                                   shapeText(r.outputShape), String(r.params), String(r.trainableParams), String(r.buffers),
                                   String(r.macs), String(r.flops), String(r.rf.size[0]), String(r.rf.size[1]), String(r.rf.jump[0]),
                                   String(r.rf.jump[1]), number(r.rf.start[0]), number(r.rf.start[1]), String(r.rf.aligned), String(r.outputBytes)]
            s += cells.joined(separator: ",") + "\n"
        }
        return s
    }

    // MARK: text and Markdown tables

    var tableHeader: [String] {
        ["Layer", "Type", "Output Shape", "Params", "MACs", convention == .convlens ? "FLOPs" : "\(convention.rawValue)", "RF (size/jump)", "Output Bytes"]
    }

    func tableCells(_ r: AnalysisRow, indent: Bool) -> [String] {
        let name = (indent ? String(repeating: "  ", count: max(r.depth - 1, 0)) : "") + r.name
        var rf = r.rf.constant ? "—" : "\(r.rf.size[0])×\(r.rf.size[1]) / \(r.rf.jump[0])" + (r.rf.aligned ? "" : "*")
        if let sp = r.spatialRF { rf += " (\(sp.size[0])×\(sp.size[1]) spatial)" }
        let params = r.repeated && r.params > 0 ? "(\(groupedDigits(r.params)))" : nonZero(r.params)
        return [name, r.type, shapeText(r.outputShape), params, nonZero(r.macs), nonZero(r.flops), rf, groupedDigits(r.outputBytes)]
    }

    var totalsLines: [String] {
        let t = totals
        return [
            "Model: \(model) (\(graph.className)), input \(shapeText(inputShape)), mode \(mode.rawValue), convention \(convention.rawValue)",
            "Params: \(groupedDigits(t.params)) (trainable \(groupedDigits(t.trainableParams)), non-trainable \(groupedDigits(t.nonTrainableParams))); buffers: \(groupedDigits(t.buffers))",
            "MACs: \(groupedDigits(t.macs)); \(convention == .convlens ? "FLOPs" : "\(convention.rawValue) \(convention.quantity)"): \(groupedDigits(t.flops))",
            "Memory: params \(mib(t.paramBytes)), buffers \(mib(t.bufferBytes)), input \(mib(t.inputBytes)), activations \(mib(t.activationBytes)), training (SGD momentum) \(mib(t.trainingBytes))",
        ]
    }

    public func text() -> String {
        let table = [tableHeader] + rows.map { tableCells($0, indent: true) }
        let widths = tableHeader.indices.map { c in table.map { $0[c].unicodeScalars.count }.max()! }
        let numeric: Set<Int> = [3, 4, 5, 7]
        var s = ""
        for (i, row) in table.enumerated() {
            let cells = row.enumerated().map { c, v in
                numeric.contains(c) ? String(repeating: " ", count: widths[c] - v.unicodeScalars.count) + v : pad(v, widths[c])
            }
            var line = cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            s += line + "\n"
            if i == 0 { s += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        s += "\n" + totalsLines.joined(separator: "\n") + "\n"
        if rows.contains(where: { !$0.rf.aligned }) { s += "* receptive field where branches' jumps or centres disagree: the union is shown\n" }
        if rows.contains(where: { $0.spatialRF != nil }) {
            s += "(… spatial): a global-context branch (pooled to 1×1 and multiplied back, as in squeeze-excitation) lets every unit see the whole input; the bracket gives the field of the spatial path alone\n"
        }
        return s
    }

    public func markdown() -> String {
        var s = "| " + tableHeader.joined(separator: " | ") + " |\n"
        s += "|" + tableHeader.indices.map { [3, 4, 5, 7].contains($0) ? "---:|" : "---|" }.joined() + "\n"
        for r in rows {
            s += "| " + tableCells(r, indent: false).map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        return s + "\n" + totalsLines.map { "- " + $0 }.joined(separator: "\n") + "\n"
    }
}

func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "x") }

/// 97 → "97", 97.5 → "97.5", -0.5 → "-0.5".
func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

func mib(_ bytes: Int) -> String { formatFixed2(Double(bytes) / 1_048_576) + " MiB" }

