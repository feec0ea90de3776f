import ConvLensAnalysis
import ConvLensGraph
import Foundation

/// Netron's attachment file (`convlens export … --netron OUT.json`): a JSON that Netron reads when
/// it is opened (or dropped) while a model is shown, recognised by `"signature": "netron:attachment"`
/// (lutzroeder/netron source/view.js, `metadata.Attachment`, added for netron issue #1240). Its
/// `metadata` and `metrics` arrays hold entries `{kind, target, name, value}`; an entry whose kind
/// is `node` and whose target is a node's name appears in that node's sidebar under "Metadata" /
/// "Metrics". ConvLens writes, for every ONNX node of a call, the module path and class
/// (metadata) and, on the node that produces the call's output, its output shape, parameters,
/// MACs, FLOPs and receptive field (metrics, eval mode, ConvLens's convention); the model's totals
/// go on the `model` target.
public enum NetronAttachment {
    public static func json(_ graph: ModelGraph, nodeNames: [Int: [String]]) throws -> String {
        let analysis = try Analyzer.analyze(graph, mode: .eval, convention: .convlens)
        var metadata: [String] = [], metrics: [String] = []
        func entry(_ kind: String, _ target: String, _ name: String, _ value: String) -> String {
            "{\"kind\": \"\(kind)\", \"target\": \(jsonQuoted(target)), \"name\": \(jsonQuoted(name)), \"value\": \(value)}"
        }
        func shape(_ s: [Int]) -> String { jsonQuoted("[" + s.map(String.init).joined(separator: ", ") + "]") }
        for row in analysis.rows {
            guard let n = row.node, let names = nodeNames[n], let last = names.last else { continue }
            for name in names {
                metadata.append(entry("node", name, "convlens.layer", jsonQuoted(row.name)))
                metadata.append(entry("node", name, "convlens.type", jsonQuoted(row.type)))
            }
            metrics.append(entry("node", last, "output shape", shape(row.outputShape)))
            metrics.append(entry("node", last, "params", String(row.params)))
            metrics.append(entry("node", last, "MACs", String(row.macs)))
            metrics.append(entry("node", last, "FLOPs (ConvLens)", String(row.flops)))
            let rf = row.rf
            let rfText = rf.constant ? "none (a constant)"
                : "\(rf.size[0])×\(rf.size[1]) px, jump \(rf.jump[0])×\(rf.jump[1]), centre of the first unit (\(rf.start[0]), \(rf.start[1]))\(rf.aligned ? "" : ", merged branches disagree: an upper bound")"
            metrics.append(entry("node", last, "receptive field", jsonQuoted(rfText)))
        }
        let t = analysis.totals
        metrics.append(entry("model", "", "params", String(t.params)))
        metrics.append(entry("model", "", "MACs", String(t.macs)))
        metrics.append(entry("model", "", "FLOPs (ConvLens)", String(t.flops)))
        metadata.append(entry("model", "", "convlens.input", shape(graph.inputShape)))
        return "{\"signature\": \"netron:attachment\",\n \"metadata\": [\n  " + metadata.joined(separator: ",\n  ")
            + "\n ],\n \"metrics\": [\n  " + metrics.joined(separator: ",\n  ") + "\n ]\n}\n"
    }
}
