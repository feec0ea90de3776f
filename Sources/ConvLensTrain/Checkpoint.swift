import ConvLensEngine
import Foundation

/// `checkpoint.safetensors`: the model's state_dict under torch's keys (parameters and buffers),
/// the optimizer's state under `optimizer.<kind>.<key>`, and in the header's `__metadata__` the
/// epoch just finished, the optimizer step, the RNG seed, the run's config and the records of
/// every finished epoch (full precision: metrics.csv and run.json are rebuilt from them, so a
/// kill between writing the checkpoint and metrics.csv loses nothing). Every random
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
    /// Epochs 1…epoch; nil in checkpoints written before they carried them (metrics.csv is read then).
    public var records: [EpochRecord]?

    public func write(to path: String, keys: [String]) throws {
        var st = SafeTensors()
        for k in keys { st.set(k, state[k]!) }
        for (k, v) in optimizerState.sorted(by: { $0.key < $1.key }) { st.set("optimizer." + k, Tensor(shape: [v.count], values: v)) }
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        st.metadata = ["format": Self.format, "epoch": String(epoch), "optimizer_step": String(optimizerStep),
                       "config": String(decoding: try enc.encode(config), as: UTF8.self)]
        if let records { st.metadata["records"] = String(decoding: try enc.encode(records), as: UTF8.self) }
        try writeAtomically(st.serialized(), to: path)
    }

    public static func read(_ path: String) throws -> Checkpoint {
        let st = try SafeTensors.read(path)
        guard st.metadata["format"] == format, let epoch = st.metadata["epoch"].flatMap(Int.init),
              let step = st.metadata["optimizer_step"].flatMap(Int.init), let cfg = st.metadata["config"] else {
            throw DataError(path, "not a ConvLens training checkpoint (no \(format) metadata)")
        }
        let config = try decode(TrainConfig.self, cfg, "config", path)
        let records = try st.metadata["records"].map { try decode([EpochRecord].self, $0, "records", path) }
        var state: [String: Tensor] = [:], opt: [String: [Float]] = [:]
        for name in st.names {
            let t = try st.tensor(name)
            if name.hasPrefix("optimizer.") { opt[String(name.dropFirst("optimizer.".count))] = t.values } else { state[name] = t }
        }
        return Checkpoint(epoch: epoch, optimizerStep: step, config: config, state: state, optimizerState: opt, records: records)
    }

    /// JSON metadata, failing with one line naming the file and the field (not Foundation's DecodingError text).
    static func decode<T: Decodable>(_ type: T.Type, _ text: String, _ what: String, _ path: String) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch let e as DecodingError {
            let reason: String
            switch e {
            case .keyNotFound(let k, let c): reason = "has no '\((c.codingPath + [k]).map(\.stringValue).joined(separator: "."))'"
            case .typeMismatch(_, let c), .valueNotFound(_, let c): reason = "has a value of the wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
            case .dataCorrupted(let c) where c.codingPath.isEmpty: reason = "is not valid JSON"
            case .dataCorrupted(let c): reason = "has an invalid value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
            @unknown default: reason = "cannot be read"
            }
            throw DataError(path, "the checkpoint's \(what) metadata \(reason)")
        } catch {
            throw DataError(path, "the checkpoint's \(what) metadata cannot be read")
        }
    }

    /// The checkpoint's own consistency against the graph and optimizer it resumes: the epoch and
    /// step counters, every state_dict tensor finite (running variances ≥ 0), and exactly the
    /// optimizer state the optimizer keeps — one buffer per parameter for momentum, m and v
    /// (v ≥ 0) for Adam, none for SGD — each of the parameter's size and finite.
    func validate(path: String, entries: [(key: String, count: Int, isBuffer: Bool)], batchesPerEpoch: Int) throws {
        guard epoch >= 1 else { throw DataError(path, "the checkpoint's epoch is \(epoch); a checkpoint is written after epoch 1 at the earliest") }
        let (expectedStep, o) = epoch.multipliedReportingOverflow(by: batchesPerEpoch)
        guard !o, optimizerStep == expectedStep else {
            throw DataError(path, "the checkpoint's optimizer step is \(optimizerStep) but \(epoch) epochs of \(batchesPerEpoch) batches take \(o ? "more" : String(expectedStep))")
        }
        for e in entries {
            guard let t = state[e.key] else { continue }          // missing keys: the engine names them
            if let bad = t.values.firstIndex(where: { !$0.isFinite }) {
                throw DataError(path, "tensor '\(e.key)' holds \(t.values[bad]) at index \(bad); a checkpoint's weights are finite")
            }
            if e.key.hasSuffix("running_var"), let bad = t.values.firstIndex(where: { $0 < 0 }) {
                throw DataError(path, "tensor '\(e.key)' holds a negative variance (\(t.values[bad])) at index \(bad)")
            }
        }
        let kind = Optimizer.Kind(rawValue: config.optimizer)!       // validated with the config
        let prefixes: [String] = switch kind { case .sgd: []; case .momentum: ["momentum."]; case .adam: ["adam_m.", "adam_v."] }
        var expected: [String: Int] = [:]
        for e in entries where !e.isBuffer { for p in prefixes { expected[p + e.key] = e.count } }
        if let extra = optimizerState.keys.sorted().first(where: { expected[$0] == nil }) {
            throw DataError(path, "optimizer state 'optimizer.\(extra)' does not belong to \(kind.rawValue) on this model")
        }
        for (k, n) in expected.sorted(by: { $0.key < $1.key }) {
            guard let v = optimizerState[k] else { throw DataError(path, "optimizer state 'optimizer.\(k)' is missing") }
            guard v.count == n else { throw DataError(path, "optimizer state 'optimizer.\(k)' has \(v.count) elements, its parameter \(n)") }
            if let bad = v.firstIndex(where: { !$0.isFinite || (k.hasPrefix("adam_v.") && $0 < 0) }) {
                throw DataError(path, "optimizer state 'optimizer.\(k)' holds \(v[bad]) at index \(bad)")
            }
        }
        if let records { try EpochRecord.validate(records, epochs: epoch, file: path) }
    }
}
