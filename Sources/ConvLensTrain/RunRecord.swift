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
        let f = csvRow.split(separator: ",").map { Double($0) }
        guard f.count == 7, f.allSatisfy({ $0 != nil }) else { return nil }
        self.init(epoch: Int(f[0]!), trainLoss: f[1]!, trainAcc: f[2]!, testLoss: f[3]!, testAcc: f[4]!, seconds: f[5]!, imagesPerSecond: f[6]!)
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

public func readMetrics(_ path: String) throws -> [EpochRecord] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst()
    return try lines.map { line in
        guard let r = EpochRecord(csvRow: line) else { throw DataError(path, "malformed row '\(line)'") }
        return r
    }
}
