import ConvLensEngine
import ConvLensGraph
import Foundation

/// A training run: epochs of shuffled mini-batches, evaluation on the test split after each,
/// metrics.csv, an atomic checkpoint per epoch, and at the end run.json and curves.svg.
public final class Trainer {
    public let config: TrainConfig
    public let directory: String
    public let adapter: InputAdapter
    public let engine: Engine
    public let data: IDXDataset
    let progress: Progress
    var optimizer: Optimizer
    var records: [EpochRecord] = []
    var startEpoch = 1

    /// Prepares a run in `directory` (created if needed). With `resume`, continues from the
    /// checkpoint there with the config it was started with.
    /// Without `resume`, a folder that already holds a run (a checkpoint, weights or metrics) is
    /// refused unless `overwrite`: a good checkpoint is never replaced by accident.
    public init(config: TrainConfig, directory: String, resume: Bool, progress: Progress, initialWeights: [String: Tensor]? = nil,
                pretrainedHead: Bool = false,
                resumeOverrides: (epochs: Int?, lr: Double?) = (nil, nil), overwrite: Bool = false) throws {
        var config = config
        var checkpoint: Checkpoint?
        let ckptPath = (directory as NSString).appendingPathComponent("checkpoint.safetensors")
        if !resume && !overwrite {
            let held = ["checkpoint.safetensors", "weights.safetensors", "metrics.csv", "run.json"].filter {
                FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0))
            }
            if let first = held.first {
                throw DataError((directory as NSString).appendingPathComponent(first),
                                "this folder already holds a run; continue it with --resume \(directory), or replace it with --force")
            }
        }
        if resume {
            guard FileManager.default.fileExists(atPath: ckptPath) else { throw DataError(ckptPath, "no checkpoint to resume from") }
            let c = try Checkpoint.read(ckptPath)
            config = c.config
            // A resumed run keeps its recipe; only what the user asks for again changes.
            if let e = resumeOverrides.epochs { config.epochs = e }
            if let lr = resumeOverrides.lr { config.lr = lr }
            // A resumed run validates what a fresh one does, on the config the checkpoint carries.
            try config.validate(source: ckptPath)
            if config.epochs <= c.epoch {
                // Finished: only a run killed after its last checkpoint and before run.json or
                // curves.svg has something left to do (write them); otherwise there is nothing to resume.
                let done = ["run.json", "curves.svg"].allSatisfy { FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0)) }
                guard !done, config.epochs == c.epoch else {
                    throw DataError(ckptPath, "the run already finished \(c.epoch) epochs; pass --epochs N with N > \(c.epoch) to train further")
                }
            }
            checkpoint = c
        }
        self.config = config
        self.directory = directory
        self.progress = progress
        let file = try Registry.load(config.model)
        data = try IDXDataset(directory: config.data)
        adapter = try InputAdapter.choose(for: file, rows: data.train.rows, cols: data.train.cols, numClasses: data.numClasses,
                                          imageSize: config.imageSize, arguments: config.arguments)
        let graph = try Registry.graph(from: file, arguments: config.arguments + ["num_classes=\(data.numClasses)"],
                                       input: [config.batchSize, adapter.channels, adapter.height, adapter.width])
        let weights: [String: Tensor]
        if let checkpoint {
            weights = checkpoint.state
        } else if let initialWeights, pretrainedHead {
            // Fine-tuning: every tensor the model shares with the given weights (same key and
            // size) starts from them; the rest (a classifier resized to the data's classes) from
            // the model's own initialisation.
            var w = config.initialization == "hash" ? HashInit.stateDict(graph) : try DefaultInit.stateDict(graph, seed: config.seed)
            for (k, t) in initialWeights where w[k]?.values.count == t.values.count { w[k] = t.reshaped(w[k]!.shape) }
            weights = w
        } else if let initialWeights {
            weights = initialWeights
        } else {
            weights = config.initialization == "hash" ? HashInit.stateDict(graph) : try DefaultInit.stateDict(graph, seed: config.seed)
        }
        engine = try Engine(graph: graph, weights: weights)
        optimizer = Optimizer(kind: Optimizer.Kind(rawValue: config.optimizer)!, lr: Float(config.lr), weightDecay: Float(config.weightDecay))
        if let checkpoint {
            let entries = graph.stateDict().map { (key: $0.key, count: $0.shape.reduce(1, *), isBuffer: $0.isBuffer) }
            try checkpoint.validate(path: ckptPath, entries: entries, batchesPerEpoch: trainCount / config.batchSize)
            optimizer.lr = Float(config.lr)
            optimizer.step = checkpoint.optimizerStep
            optimizer.state = checkpoint.optimizerState
            startEpoch = checkpoint.epoch + 1
            records = try Self.resumedRecords(checkpoint, metricsPath: path("metrics.csv"))
        }
        if !directory.isEmpty {
            do { try Directories.create(directory) } catch { throw DataError(directory, "cannot create the run folder (\(error.reason))") }
        }
        if checkpoint != nil {
            // A kill may have come between the checkpoint and the files derived from it: rebuild them
            // now, so the folder is consistent before the first new epoch ends.
            removeStaleTemporaries()
            try writeWeights()
            try writeMetrics(records, to: path("metrics.csv"))
        }
    }

    /// The finished epochs' records: the checkpoint's own; metrics.csv must agree with them row for
    /// row (it may lack the last one: a kill between the checkpoint and metrics.csv). A checkpoint
    /// without records (written before they were kept) takes metrics.csv's first rows.
    static func resumedRecords(_ c: Checkpoint, metricsPath: String) throws -> [EpochRecord] {
        let rows = try readMetrics(metricsPath)
        guard let records = c.records else {
            guard rows.count >= c.epoch else { throw DataError(metricsPath, "holds \(rows.count) rows but the checkpoint finished \(c.epoch) epochs") }
            return Array(rows.prefix(c.epoch))
        }
        guard rows.count >= c.epoch - 1, rows.count <= c.epoch else {
            throw DataError(metricsPath, "holds \(rows.count) rows but the checkpoint finished \(c.epoch) epochs")
        }
        for (r, k) in zip(rows, records) where r.csvRow != k.csvRow {
            throw DataError(metricsPath + ":\(r.epoch + 1)", "epoch \(r.epoch)'s row disagrees with the checkpoint's record (\(k.csvRow))")
        }
        return records
    }

    /// Temporary files of an atomic write a kill interrupted (`.NAME.PID.RANDOM.tmp`).
    func removeStaleTemporaries() {
        let names = ["checkpoint.safetensors", "weights.safetensors", "metrics.csv", "run.json", "curves.svg"]
        for f in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where f.hasSuffix(".tmp") {
            guard names.contains(where: { f.hasPrefix("." + $0 + ".") }) else { continue }
            try? FileManager.default.removeItem(atPath: path(f))
        }
    }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    var trainCount: Int { min(config.limit ?? .max, data.train.count) }
    var testCount: Int { min(config.limit ?? .max, data.test.count) }

    /// A deterministic 64-bit value from the run seed and a stream id (epoch, purpose).
    func derivedSeed(_ a: Int, _ b: Int) -> UInt64 {
        var r = RandomSource(seed: config.seed &* 0x9E37_79B9 &+ UInt64(a) &* 0x85EB_CA6B &+ UInt64(b))
        return r.next()
    }

    /// Runs the remaining epochs; returns the records of all epochs.
    @discardableResult
    public func run() throws -> [EpochRecord] {
        progress.message("\(config.model) on \(data.directory): \(trainCount) train / \(testCount) test images, \(data.numClasses) classes; input \(adapter)")
        if startEpoch > 1 { progress.message("resuming after epoch \(startEpoch - 1) from \(path("checkpoint.safetensors"))") }
        for epoch in startEpoch...max(startEpoch, config.epochs) where epoch <= config.epochs {
            let record = try trainEpoch(epoch)
            records.append(record)
            // The checkpoint first, carrying the epoch's record: a kill after it loses nothing (resume
            // rebuilds weights.safetensors and metrics.csv from it); a kill before it redoes the epoch.
            try Checkpoint(epoch: epoch, optimizerStep: optimizer.step, config: config, state: engine.state, optimizerState: optimizer.state,
                           records: records)
                .write(to: path("checkpoint.safetensors"), keys: engine.graph.stateDict().map(\.key))
            try writeWeights()
            try writeMetrics(records, to: path("metrics.csv"))
            progress.epochDone(record, epochs: config.epochs)
        }
        try writeSummary()
        return records
    }

    func writeWeights() throws {
        var st = SafeTensors()
        for e in engine.graph.stateDict() {
            if e.localName == "num_batches_tracked" {
                st.set(e.key, int64: [Int64(engine.state[e.key]!.values.first ?? 0)], shape: [])
            } else {
                st.set(e.key, engine.state[e.key]!)
            }
        }
        try writeAtomically(st.serialized(), to: path("weights.safetensors"))
    }

    func trainEpoch(_ epoch: Int) throws -> EpochRecord {
        let t0 = Date()
        var order = Array(0..<trainCount)
        var rng = RandomSource(seed: derivedSeed(epoch, 1))
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }   // Fisher–Yates
        engine.dropoutSeed = derivedSeed(epoch, 2)
        let b = config.batchSize
        let batches = order.count / b        // full batches only: the graph has a fixed batch size
        guard batches > 0 else { throw DataError("--batch-size", "\(b) is larger than the \(order.count) training images") }
        let input = Tensor(zeros: engine.graph.inputShape)
        var lossSum = 0.0, correct = 0, seen = 0
        for bi in 0..<batches {
            let idx = Array(order[(bi * b)..<((bi + 1) * b)])
            let targets = fill(input, from: data.train, indices: idx)
            let logits = try engine.forward(input, training: true)
            let (loss, mainLoss, dLogits, aux) = try engine.crossEntropy(targets: targets)
            guard loss.isFinite else {
                throw DataError(directory, "loss became \(loss) at epoch \(epoch), batch \(bi + 1); stopped. The last good checkpoint (epoch \(epoch - 1)) is intact")
            }
            engine.zeroGradients()
            try engine.backward(dLogits, auxGradients: aux, inputGradient: false)
            optimizer.beginStep()
            for k in engine.parameterKeys {
                optimizer.update(k, param: engine.state[k]!.data, grad: engine.gradients[k]!.data, count: engine.state[k]!.count)
            }
            lossSum += mainLoss * Double(b)
            correct += countCorrect(logits, targets)
            seen += b
            let elapsed = Date().timeIntervalSince(t0)
            progress.batch(epoch: epoch, epochs: config.epochs, batch: bi + 1, batches: batches, loss: lossSum / Double(seen),
                           acc: Double(correct) / Double(seen), imagesPerSecond: Double(seen) / elapsed,
                           eta: elapsed / Double(bi + 1) * Double(batches - bi - 1))
        }
        let trainSeconds = Date().timeIntervalSince(t0)
        let (testLoss, testAcc) = try evaluate()
        return EpochRecord(epoch: epoch, trainLoss: lossSum / Double(seen), trainAcc: Double(correct) / Double(seen),
                           testLoss: testLoss, testAcc: testAcc, seconds: Date().timeIntervalSince(t0), imagesPerSecond: Double(seen) / trainSeconds)
    }

    /// Writes images `indices` of a split into `input` (adapted to the model); returns their labels.
    func fill(_ input: Tensor, from split: IDXSplit, indices: [Int]) -> [Int] {
        let per = adapter.channels * adapter.height * adapter.width
        let px = split.rows * split.cols
        split.images.withUnsafeBufferPointer { images in
            for (j, i) in indices.enumerated() {
                adapter.fill(UnsafeBufferPointer(rebasing: images[(i * px)..<((i + 1) * px)]), into: input.data + j * per)
            }
        }
        return indices.map { Int(split.labels[$0]) }
    }

    func countCorrect(_ logits: Tensor, _ targets: [Int]) -> Int {
        let classes = logits.count / targets.count
        var c = 0
        for (r, t) in targets.enumerated() {
            var best = 0
            for k in 1..<classes where logits.data[r * classes + k] > logits.data[r * classes + best] { best = k }
            if best == t { c += 1 }
        }
        return c
    }

    /// Test loss and accuracy in eval mode; the last partial batch is padded and its padding ignored.
    public func evaluate() throws -> (loss: Double, acc: Double) {
        let (loss, acc, _) = try evaluateWithPredictions()
        return (loss, acc)
    }

    public func evaluateWithPredictions() throws -> (loss: Double, acc: Double, predictions: [Int]) {
        let b = config.batchSize
        let input = Tensor(zeros: engine.graph.inputShape)
        var lossSum = 0.0, correct = 0
        var predictions: [Int] = []
        var start = 0
        while start < testCount {
            let n = min(b, testCount - start)
            var idx = Array(start..<(start + n))
            while idx.count < b { idx.append(idx.last!) }
            let targets = fill(input, from: data.test, indices: idx)
            let logits = try engine.forward(input, training: false, retainForBackward: false)
            let classes = logits.count / b
            for r in 0..<n {
                let row = logits.data + r * classes
                var m = row[0], best = 0
                for k in 1..<classes where row[k] > m { m = row[k]; best = k }
                var s = 0.0
                for k in 0..<classes { s += exp(Double(row[k] - m)) }
                lossSum += log(s) + Double(m) - Double(row[targets[r]])
                if best == targets[r] { correct += 1 }
                predictions.append(best)
            }
            start += n
        }
        return (lossSum / Double(testCount), Double(correct) / Double(testCount), predictions)
    }

    func writeSummary() throws {
        let summary = RunSummary(model: config.model, config: config, test_acc: records.last?.testAcc ?? .nan,
                                 input: adapter.description,
                                 epochs: records.map { .init(epoch: $0.epoch, train_loss: $0.trainLoss, test_acc: $0.testAcc, seconds: $0.seconds, images_per_s: $0.imagesPerSecond) })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(Array(try enc.encode(summary)) + [10], to: path("run.json"))
        let title = "\(config.model) on \((config.data as NSString).lastPathComponent): final test accuracy \(String(format: "%.2f%%", (records.last?.testAcc ?? 0) * 100))"
        try writeAtomically(Array(Curves.svg(records, title: title).utf8), to: path("curves.svg"))
    }
}
