import ConvLensGraph
import ConvLensONNX
import Foundation

extension ONNXExport {
    /// What `print(model)` shows that the graph does not: for each container whose children are
    /// registered in another order than they are first called (SqueezeExcitation's `fc2` before
    /// `activation`), or that registers a child it never calls (ShuffleNetV2's empty `branch1`), its
    /// children in registration order, an uncalled leaf or empty container with its zoo
    /// constructor. JSON under the model metadata key `ONNXImport.registrationKey`; nil when every
    /// container calls its children in registration order. (An uncalled container with children of
    /// its own — the auxiliary heads in eval mode — is not described.)
    static func registration(_ graph: ModelGraph) -> String? {
        var first: [Int: Int] = [:]
        for (position, node) in graph.nodes(training: false).enumerated() {
            for m in node.scope + (node.module.map { [$0] } ?? []) where first[m] == nil { first[m] = position }
        }
        var entries: [String] = []
        for m in graph.modules where m.isContainer && !m.children.isEmpty {
            let called = m.children.filter { first[$0] != nil }
            let byCall = called.sorted { first[$0]! < first[$1]! }
            let uncalled = m.children.filter { first[$0] == nil }
            guard byCall != called || !uncalled.isEmpty else { continue }
            var children: [String] = []
            for k in m.children {
                let child = graph.modules[k]
                if first[k] != nil { children.append("[\(jsonQuoted(child.name))]"); continue }
                let text: String
                if let spec = child.spec {
                    // The constructor the kind's spelling names for the import (no kind's depends on
                    // the shapes; an uncalled module has none, so a placeholder stands in).
                    let repr = child.className + "(" + spec.extraRepr + ")"
                    let placeholder = ONNXCall(inputShapes: [[1, 1, 1, 1]], outputShape: [1, 1, 1, 1], isModule: true, repr: repr)
                    if case .nodes(_, _, _, let module?) = spec.onnx(placeholder) { text = module } else { text = repr }
                }
                else if child.children.isEmpty && child.ownParameters.isEmpty { text = child.className + "()" }
                else { continue }
                children.append("[\(jsonQuoted(child.name)), \(jsonQuoted(text))]")
            }
            entries.append("\(jsonQuoted(m.path)): [\(children.joined(separator: ", "))]")
        }
        return entries.isEmpty ? nil : "{" + entries.joined(separator: ", ") + "}"
    }
}
