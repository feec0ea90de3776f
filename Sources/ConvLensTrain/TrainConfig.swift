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
        guard c.epochs >= 1 else { throw DataError("--epochs", "must be at least 1, got \(c.epochs)") }
        guard c.batchSize >= 1 else { throw DataError("--batch-size", "must be at least 1, got \(c.batchSize)") }
        guard c.lr > 0, c.lr.isFinite else { throw DataError("--lr", "must be a positive number, got \(c.lr)") }
        guard c.weightDecay >= 0 else { throw DataError("--weight-decay", "must be ≥ 0, got \(c.weightDecay)") }
        guard Optimizer.Kind(rawValue: c.optimizer) != nil else {
            throw DataError("--optimizer", "unknown optimizer '\(c.optimizer)' (sgd, momentum, adam)")
        }
        guard ["default", "hash"].contains(c.initialization) else { throw DataError("--init", "must be default or hash, got '\(c.initialization)'") }
        if let l = c.limit, l < 1 { throw DataError("--limit", "must be at least 1, got \(l)") }
        return c
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
