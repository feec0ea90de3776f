import Foundation

/// PyTorch's per-layer table (layers.json) and totals (totals.json) for one registry model.
public struct ReferenceLayer: Sendable {
    public var name: String
    public var type: String
    public var inputShape: [Int]
    public var outputShape: [Int]
    public var params: Int
    public var buffers: Int
    public var macs: Int
}

public struct ReferenceTotals: Sendable {
    public var inputShape: [Int]
    public var params: Int
    public var trainable: Int
    public var buffers: Int
    public var ownMacs: Int
    /// Tool name (torchinfo, fvcore, thop, ptflops) → its total for this model.
    public var tools: [String: Int]
}

public enum AnalysisReference {
    public static func layers(_ model: String) throws -> [ReferenceLayer] {
        let root = try Paths.referenceJSON(model, "layers.json") as! [String: Any]
        return (root["layers"] as! [[String: Any]]).map { l in
            ReferenceLayer(name: l["name"] as! String, type: l["type"] as! String,
                           inputShape: (l["input_shape"] as? [Int]) ?? [], outputShape: (l["output_shape"] as? [Int]) ?? [],
                           params: l["params"] as! Int, buffers: l["buffers"] as! Int, macs: l["macs"] as! Int)
        }
    }

    public static func totals(_ model: String) throws -> ReferenceTotals {
        let t = try Paths.referenceJSON(model, "totals.json") as! [String: Any]
        return ReferenceTotals(
            inputShape: t["input_shape"] as! [Int], params: t["params"] as! Int, trainable: t["trainable"] as! Int,
            buffers: t["buffers"] as! Int, ownMacs: t["own_macs"] as! Int,
            tools: ["torchinfo": t["torchinfo_mult_adds"] as! Int, "fvcore": t["fvcore_flops"] as! Int,
                    "thop": t["thop_macs"] as! Int, "ptflops": t["ptflops_macs_batch1"] as! Int])
    }
}
