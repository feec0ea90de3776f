import ConvLensGraph
import Foundation

/// Everything that determines a training run. Defaults come from the zoo file's `train` lines;
/// for `convnet` they are the seed's recipe exactly.
public struct TrainConfig: Sendable, Codable, Equatable {
    public var model: String
    public var data: String
    public var epochs: Int
    public var batchSize: Int
    public var lr: Double
    public var optimizer: String
    public var weightDecay: Double
    public var seed: UInt64
    /// Use only the first N training and N test images (quick runs).
    public var limit: Int?
    public var imageSize: Int?
    /// `default` (the zoo file's `init` lines over torch's layer defaults, see `DefaultInit`) or `hash`.
    public var initialization: String
    public var arguments: [String]

    /// Fills unset options from the zoo file's `train` lines, then ConvLens's fallbacks
    /// (SGD, lr 0.05, batch 128, 10 epochs, seed 1 — the seed's recipe).
    public static func resolve(model: String, file: ZooFile, data: String?, epochs: Int?, batchSize: Int?, lr: Double?,
                               optimizer: String?, weightDecay: Double?, seed: UInt64?, limit: Int?, imageSize: Int?,
                               initialization: String?, arguments: [String]) throws -> TrainConfig {
        func intDefault(_ key: String, _ fallback: Int) -> Int { file.trainValue(key)?.intValue ?? fallback }
        func doubleDefault(_ key: String, _ fallback: Double) -> Double { file.trainValue(key)?.doubleValue ?? fallback }
        let c = TrainConfig(
            model: model, data: data ?? IDXDataset.defaultDirectory,
            epochs: epochs ?? intDefault("epochs", 10), batchSize: batchSize ?? intDefault("batch_size", 128),
            lr: lr ?? doubleDefault("lr", 0.05), optimizer: optimizer ?? file.trainValue("optimizer")?.stringValue ?? "sgd",
            weightDecay: weightDecay ?? doubleDefault("weight_decay", 0), seed: seed ?? UInt64(intDefault("seed", 1)),
            limit: limit, imageSize: imageSize, initialization: initialization ?? "default", arguments: arguments)
        try c.validate()
        return c
    }

    /// What a fresh run checks of its options, and a resumed run of the config its checkpoint
    /// carries (`source` names that file instead of the options).
    public func validate(source: String? = nil) throws {
        func fail(_ option: String, _ message: String) -> DataError {
            source.map { DataError($0, "the checkpoint's config has \(option.dropFirst(2)) \(message)") } ?? DataError(option, message)
        }
        guard epochs >= 1 else { throw fail("--epochs", "must be at least 1, got \(epochs)") }
        guard batchSize >= 1, batchSize <= 1 << 20 else { throw fail("--batch-size", "must be between 1 and 1048576, got \(batchSize)") }
        guard lr > 0, lr.isFinite, lr <= Double(Float.greatestFiniteMagnitude) else { throw fail("--lr", "must be a positive finite number, got \(lr)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw fail("--weight-decay", "must be a finite number ≥ 0, got \(weightDecay)") }
        guard Optimizer.Kind(rawValue: optimizer) != nil else {
            throw fail("--optimizer", "unknown optimizer '\(optimizer)' (sgd, momentum, adam)")
        }
        guard ["default", "hash"].contains(initialization) else { throw fail("--init", "must be default or hash, got '\(initialization)'") }
        if let l = limit, l < 1 { throw fail("--limit", "must be at least 1, got \(l)") }
        if let s = imageSize, s < 1 || s > 1 << 16 { throw fail("--image-size", "must be between 1 and 65536, got \(s)") }
    }
}

/// What `run.json` holds at the end of a run.
public struct RunSummary: Sendable, Codable {
    public struct Epoch: Sendable, Codable {
        public var epoch: Int
        public var train_loss: Double
        public var test_acc: Double
        public var seconds: Double
        public var images_per_s: Double
    }
    public var model: String
    public var config: TrainConfig
    public var test_acc: Double
    public var input: String
    public var epochs: [Epoch]
}
