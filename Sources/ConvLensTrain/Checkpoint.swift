import ConvLensEngine
import Foundation

/// `checkpoint.safetensors`: the model's state_dict under torch's keys (parameters and buffers),
/// the optimizer's state under `optimizer.<kind>.<key>`, and in the header's `__metadata__` the
/// epoch just finished, the optimizer step, the RNG seed and the run's config. Every random
/// choice of epoch e derives from (seed, e), so this is all the RNG state a resume needs.
/// `weights.safetensors` beside it holds the state_dict alone, loadable by
/// `model.load_state_dict(safetensors.torch.load_file(...))`.
public struct Checkpoint: Sendable {
    public static let format = "convlens-checkpoint-1"
    public var epoch: Int
    public var optimizerStep: Int
    public var config: TrainConfig
    public var state: [String: Tensor]
    public var optimizerState: [String: [Float]]

    public func write(to path: String, keys: [String]) throws {
        var st = SafeTensors()
        for k in keys { st.set(k, state[k]!) }
        for (k, v) in optimizerState.sorted(by: { $0.key < $1.key }) { st.set("optimizer." + k, Tensor(shape: [v.count], values: v)) }
        st.metadata = ["format": Self.format, "epoch": String(epoch), "optimizer_step": String(optimizerStep),
                       "config": String(decoding: try JSONEncoder().encode(config), as: UTF8.self)]
        try writeAtomically(st.serialized(), to: path)
    }

    public static func read(_ path: String) throws -> Checkpoint {
        let st = try SafeTensors.read(path)
        guard st.metadata["format"] == format, let epoch = st.metadata["epoch"].flatMap(Int.init),
              let step = st.metadata["optimizer_step"].flatMap(Int.init), let cfg = st.metadata["config"] else {
            throw DataError(path, "not a ConvLens training checkpoint (no \(format) metadata)")
        }
        let config = try JSONDecoder().decode(TrainConfig.self, from: Data(cfg.utf8))
        var state: [String: Tensor] = [:], opt: [String: [Float]] = [:]
        for name in st.names {
            let t = try st.tensor(name)
            if name.hasPrefix("optimizer.") { opt[String(name.dropFirst("optimizer.".count))] = t.values } else { state[name] = t }
        }
        return Checkpoint(epoch: epoch, optimizerStep: step, config: config, state: state, optimizerState: opt)
    }
}
