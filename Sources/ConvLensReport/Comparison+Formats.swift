import ConvLensGraph
import ConvLensAnalysis
import Foundation

extension Compare {
    static let headers = ["model", "family", "input", "params (eval)", "GMACs", "GFLOPs", "activations", "RF", "depth", "ImageNet top-1", "top-5", "Fashion-MNIST", "latency b1 / b8"]

    static func cells(_ r: ModelComparison) -> [String] {
        let acc = r.fashion_mnist_acc.map { a in
            String(format: "%.2f%%", a * 100) + ((r.fashion_mnist_train_images ?? 60000) < 60000 ? " †" : "")
        } ?? "—"
        return [r.name, r.family, r.input_shape.dropFirst().map(String.init).joined(separator: "×"), millions(r.inference_params), giga(r.macs), giga(r.flops),
                megabytes(r.activation_bytes), "\(r.rf[0])×\(r.rf[1])", String(r.depth),
                r.imagenet_top1.map { String(format: "%.3f%%", $0) } ?? "—", r.imagenet_top5.map { String(format: "%.3f%%", $0) } ?? "—",
                acc, r.latency_ms.map { String(format: "%.2f / %.2f ms", $0.batch1, $0.batch8) } ?? "—"]
    }

    static func millions(_ n: Int) -> String { n >= 1_000_000 ? String(format: "%.2f M", Double(n) / 1e6) : groupedDigits(n) }
    static func giga(_ n: Int) -> String { n >= 10_000_000 ? String(format: "%.3f", Double(n) / 1e9) : String(format: "%.5f", Double(n) / 1e9) }
    static func megabytes(_ n: Int) -> String { String(format: "%.2f MB", Double(n) / 1_048_576) }

    static let notes = """
    Params (eval): parameters of the modules inference runs; GoogLeNet and Inception3 also build auxiliary \
    heads for training (compare.json `params` counts them, as `model.parameters()` does). MACs: the textbook count (Conv2d and Linear multiply-accumulates), eval mode, batch 1. FLOPs: ConvLens's \
    convention (README, "FLOPs conventions"). Activations: every tensor the forward pass produces, float32. \
    RF: theoretical receptive field at the last feature map larger than 1×1. Depth: Conv2d + Linear layers. \
    ImageNet: torchvision's published single-crop accuracies (source in each zoo file). Fashion-MNIST: ConvLens's \
    own newest run under reports/runs/ (28×28 inputs adapted as `convlens train` documents); † = a short run \
    (--limit), not comparable with full runs. Latency: `--measure`, per image, this machine.
    """

    static func csvField(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }

    static func csvRow(_ r: ModelComparison) -> String {
        var c: [String] = [r.name, csvField(r.family), r.input_shape.map(String.init).joined(separator: "x"), String(r.params), String(r.inference_params), String(r.macs), String(r.flops)]
        c += [String(r.activation_bytes), String(r.rf[0]), String(r.rf[1]), String(r.depth)]
        c.append(r.imagenet_top1.map { String($0) } ?? "")
        c.append(r.imagenet_top5.map { String($0) } ?? "")
        c.append(r.fashion_mnist_acc.map { String(format: "%.4f", $0) } ?? "")
        c.append(r.latency_ms.map { String(format: "%.3f", $0.batch1) } ?? "")
        c.append(r.latency_ms.map { String(format: "%.3f", $0.batch8) } ?? "")
        return c.joined(separator: ",")
    }

    public static func render(_ rows: [ModelComparison], format: TableFormat) throws -> String {
        switch format {
        case .json:
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            struct Doc: Encodable { var models: [ModelComparison] }
            return String(decoding: try enc.encode(Doc(models: rows)), as: UTF8.self) + "\n"
        case .csv:
            let h = "name,family,input,params,inference_params,macs,flops,activation_bytes,rf_h,rf_w,depth,imagenet_top1,imagenet_top5,fashion_mnist_acc,latency_ms_batch1,latency_ms_batch8"
            var lines = [h]
            for r in rows { lines.append(csvRow(r)) }
            return lines.joined(separator: "\n") + "\n"
        case .markdown:
            let measured = rows.contains { $0.latency_ms != nil }
            let cols = measured ? headers.count : headers.count - 1
            var s = "| " + headers.prefix(cols).joined(separator: " | ") + " |\n"
            s += "|" + (0..<cols).map { $0 <= 1 ? " --- |" : " ---: |" }.joined() + "\n"
            for r in rows { s += "| " + cells(r).prefix(cols).joined(separator: " | ") + " |\n" }
            return s + "\n" + notes + (measured ? "\n\n" + latencyDescription.prefix(1).uppercased() + latencyDescription.dropFirst() + "." : "") + "\n"
        case .text:
            let measured = rows.contains { $0.latency_ms != nil }
            let cols = measured ? headers.count : headers.count - 1
            let table = [Array(headers.prefix(cols))] + rows.map { Array(cells($0).prefix(cols)) }
            let widths = (0..<cols).map { c in table.map { $0[c].count }.max() ?? 0 }
            return table.map { row in
                row.enumerated().map { c, v in
                    c <= 1 ? v.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - v.count) + v
                }.joined(separator: "  ")
            }.joined(separator: "\n") + "\n" + (measured ? latencyDescription + "\n" : "")
        }
    }
}
