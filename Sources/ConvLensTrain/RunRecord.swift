import ConvLensGraph
import Foundation

/// One epoch's results, as written to metrics.csv and run.json.
public struct EpochRecord: Sendable, Codable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAcc: Double
    public var testLoss: Double
    public var testAcc: Double
    public var seconds: Double
    public var imagesPerSecond: Double

    public static let csvHeader = "epoch,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s"

    public var csvRow: String {
        "\(epoch),\(fmt(trainLoss, 6)),\(fmt(trainAcc, 6)),\(fmt(testLoss, 6)),\(fmt(testAcc, 6)),\(fmt(seconds, 3)),\(fmt(imagesPerSecond, 1))"
    }

    public init(epoch: Int, trainLoss: Double, trainAcc: Double, testLoss: Double, testAcc: Double, seconds: Double, imagesPerSecond: Double) {
        self.epoch = epoch; self.trainLoss = trainLoss; self.trainAcc = trainAcc; self.testLoss = testLoss
        self.testAcc = testAcc; self.seconds = seconds; self.imagesPerSecond = imagesPerSecond
    }

    public init?(csvRow: Substring) {
        let fields = csvRow.split(separator: ",", omittingEmptySubsequences: false)
        let f = fields.map { Double($0) }
        guard f.count == 7, f.allSatisfy({ $0 != nil }), let epoch = Int(fields[0]) else { return nil }
        self.init(epoch: epoch, trainLoss: f[1]!, trainAcc: f[2]!, testLoss: f[3]!, testAcc: f[4]!, seconds: f[5]!, imagesPerSecond: f[6]!)
    }

    /// Why this record cannot have been written by a run, or nil: losses are cross-entropies of
    /// float32 logits (finite, 0 … Float.greatestFiniteMagnitude), accuracies fractions, times finite.
    public var problem: String? {
        let maxLoss = Double(Float.greatestFiniteMagnitude)
        for (name, v) in [("train_loss", trainLoss), ("test_loss", testLoss)] where !(v >= 0 && v <= maxLoss) {
            return "\(name) \(v) is not a loss (finite, ≥ 0, at most \(Float.greatestFiniteMagnitude))"
        }
        for (name, v) in [("train_acc", trainAcc), ("test_acc", testAcc)] where !(v >= 0 && v <= 1) { return "\(name) \(v) is not between 0 and 1" }
        for (name, v) in [("seconds", seconds), ("images_per_s", imagesPerSecond)] where !(v >= 0 && v < 1e15) { return "\(name) \(v) is not a finite time or rate ≥ 0" }
        return nil
    }

    /// Records of epochs 1…epochs in order, each one a run could write.
    static func validate(_ records: [EpochRecord], epochs: Int, file: String) throws {
        guard records.count == epochs else { throw DataError(file, "holds \(records.count) epoch records for \(epochs) finished epochs") }
        for (i, r) in records.enumerated() {
            guard r.epoch == i + 1 else { throw DataError(file, "epoch record \(i + 1) is numbered \(r.epoch)") }
            if let p = r.problem { throw DataError(file, "epoch \(r.epoch): \(p)") }
        }
    }
}

func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", v) }

/// Writes a file atomically (`AtomicFile`), failing with a DataError.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    do { try AtomicFile.write(bytes, to: path) } catch { throw DataError(path, "cannot write (\(error.reason))") }
}

/// metrics.csv: one row per finished epoch. Rewritten whole (atomically) so a resumed run
/// never carries a row from an epoch that was interrupted.
public func writeMetrics(_ records: [EpochRecord], to path: String) throws {
    let text = ([EpochRecord.csvHeader] + records.map(\.csvRow)).joined(separator: "\n") + "\n"
    try writeAtomically(Array(text.utf8), to: path)
}

/// metrics.csv's rows, each checked: a row a run could not have written (NaN, 1e300, an epoch out
/// of order) is an error naming the file and line.
public func readMetrics(_ path: String) throws -> [EpochRecord] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    guard let text = String(data: data, encoding: .utf8) else { throw DataError(path, "is not UTF-8 text") }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.first == Substring(EpochRecord.csvHeader) else { throw DataError(path + ":1", "the header is not '\(EpochRecord.csvHeader)'") }
    var out: [EpochRecord] = []
    for (i, line) in lines.enumerated().dropFirst() where !(line.isEmpty && i == lines.count - 1) {
        let short = line.count > 80 ? line.prefix(80) + "…" : line
        guard let r = EpochRecord(csvRow: line) else { throw DataError(path + ":\(i + 1)", "malformed row '\(short)'") }
        if let p = r.problem { throw DataError(path + ":\(i + 1)", p) }
        guard r.epoch == out.count + 1 else { throw DataError(path + ":\(i + 1)", "row for epoch \(r.epoch) where epoch \(out.count + 1) belongs") }
        out.append(r)
    }
    return out
}
