import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// Oracle: ops_modern.safetensors (PyTorch, float64, stored as float32). Every case that is not a
/// bare activation (ActivationKernelTests has those) runs as a one-layer zoo model through the
/// Engine — parser, graph, kernels and the engine's gradient routing together — in both engine
/// configurations; output, input gradient and every operand's gradient within 1e-5.
struct ModernOpTests {
    static let file: SafeTensors = try! SafeTensors.read(EnginePaths.vectors("ops_modern"))
    static func meta(_ name: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(file.metadata[name]!.utf8)) as? [String: Any]) ?? [:]
    }
    static let activations: Set<String> = ["relu6", "silu", "sigmoid", "tanh", "hardswish", "hardsigmoid", "gelu", "leaky_relu"]
    static let cases: [String] = file.metadata.keys.sorted().filter { !activations.contains(meta($0)["op"] as? String ?? "") }

    /// The zoo model for a case, and the state_dict names of its stored operands (`w`, `b`).
    static func model(_ name: String) throws -> (text: String, operands: [String: String]) {
        let f = file, m = meta(name)
        let x = try f.tensor("\(name).x").shape
        let has = { (k: String) in f.entries["\(name).\(k)"] != nil }
        func shape(_ k: String) throws -> [Int] { try f.tensor("\(name).\(k)").shape }
        func dims(_ s: [Int]) -> String { s.map(String.init).joined(separator: ", ") }
        let input = x.count == 4 ? dims(x).replacingOccurrences(of: ",", with: "") : "\(x[0]) \(x[1]) 1 1"
        var text = "model \(name)\ninput \(input)\n", operands: [String: String] = [:]
        if x.count == 2 { text += "flat = torch.flatten(1)\n" }
        func pair(_ k: String, _ d: Int) -> String { (m[k] as? Int).map { "\($0)" } ?? "\(d)" }
        switch m["op"] as! String {
        case "conv2d":
            let w = try shape("w")
            text += "conv = Conv2d(\(x[1]), \(w[0]), (\(w[2]), \(w[3])), stride=\(pair("stride", 1)), padding=\(pair("padding", 0)), groups=\(pair("groups", 1)), bias=\(has("b") ? "True" : "False"))\n"
            operands = ["w": "conv.weight", "b": "conv.bias"]
        case "avg_pool2d": text += "pool = AvgPool2d(kernel_size=\(pair("kernel_size", 1)), stride=\(pair("stride", 1)))\n"
        case "max_pool2d": text += "pool = MaxPool2d(kernel_size=\(pair("kernel_size", 1)), stride=\(pair("stride", 1)), ceil_mode=\((m["ceil_mode"] as? Bool ?? false) ? "True" : "False"))\n"
        case "adaptive_avg_pool2d": text += "pool = F.adaptive_avg_pool2d(\(pair("output_size", 1)))\n"
        case "softmax": text += "softmax = Softmax(dim=\(pair("dim", 1)))\n"
        case "mean": text += "mean = torch.mean(dim=(\(dims(m["dims"] as! [Int]))), keepdim=\((m["keepdim"] as? Bool ?? false) ? "True" : "False"))\n"
        case "permute": text += "permute = Permute([\(dims(m["dims"] as! [Int]))])\n"
        case "channel_shuffle": text += "shuffle = channel_shuffle(\(pair("groups", 1)))\n"
        case "chunk": text += "piece = torch.chunk(\(pair("chunks", 1)), dim=\(pair("dim", 0)))[\(pair("index", 0))]\n"
        case "layer_norm":
            text += "norm = LayerNorm(\(dims(m["normalized_shape"] as! [Int])), eps=\(m["eps"] as? Double ?? 1e-5))\n"
            operands = ["w": "norm.weight", "b": "norm.bias"]
        case "layer_norm2d":
            text += "norm = LayerNorm2d(\(x[1]), eps=\(m["eps"] as? Double ?? 1e-5))\n"
            operands = ["w": "norm.weight", "b": "norm.bias"]
        case "linear":
            let w = try shape("w")
            text += "fc = Linear(\(w[1]), \(w[0]), bias=\(has("b") ? "True" : "False"))\n"
            operands = ["w": "fc.weight", "b": "fc.bias"]
        case "mul", "add", "cat":
            // The other operands become parameters of a block, so their gradients come back too.
            let op = m["op"] as! String
            let w = try shape("w"), layerScale = w.count == 3
            text += "block B() {\n  w = Parameter(\(dims(w)))\n"
            if has("b") { text += "  b = Parameter(\(dims(try shape("b"))))\n" }
            let args = layerScale ? "w, $in" : has("b") ? "$in, w, b" : "$in, w"
            text += "  out = \(op == "cat" ? "torch.cat(1)" : op) <- \(args)\n}\nblock = B()\n"
            operands = ["w": "block.w", "b": "block.b"]
        default:
            throw EngineError("\(name): no zoo form for op \(m["op"]!)")
        }
        return (text, operands.filter { has($0.key) })
    }

    @Test func everyStructuralOpHasACase() { #expect(Self.cases.count == 23) }

    @Test(arguments: cases, [true, false])
    func matchesPyTorch(_ name: String, fuse: Bool) throws {
        let f = Self.file
        let (text, operands) = try Self.model(name)
        let graph = try GraphBuilder.build(try ZooParser.parse(text, file: "\(name).zoo"))
        var weights: [String: Tensor] = [:]
        for (k, key) in operands { weights[key] = try f.tensor("\(name).\(k)") }
        let engine = try Engine(graph: graph, weights: weights, fuse: fuse)
        let x = try f.tensor("\(name).x"), yRef = try f.tensor("\(name).y")
        let y = try engine.forward(x.reshaped(graph.inputShape), training: true)
        #expect(y.shape == yRef.shape, "\(name): \(y.shape) vs \(yRef.shape)")
        #expect(relativeError(y, yRef) <= 1e-5, "\(name) forward: \(relativeError(y, yRef))")
        let gx = try engine.backward(try f.tensor("\(name).gy"))
        let gxRef = try f.tensor("\(name).gx")
        #expect(relativeError(gx, gxRef) <= 1e-5, "\(name) gx: \(relativeError(gx, gxRef))")
        for (k, key) in operands.sorted(by: { $0.key < $1.key }) {
            let g = try #require(engine.gradients[key]), ref = try f.tensor("\(name).g\(k)")
            #expect(relativeError(g, ref) <= 1e-5, "\(name) g\(k): \(relativeError(g, ref))")
        }
    }
}
