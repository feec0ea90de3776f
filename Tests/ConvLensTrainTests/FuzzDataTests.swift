import ConvLensEngine
import ConvLensGraph
import Foundation
import Testing
@testable import ConvLensTrain
import TestSupport

/// Fuzzing the IDX and gzip readers and the checkpoint/resume path: mutated files are read or
/// refused with one line naming the file, never a trap.
@Suite struct FuzzDataTests {
    func oneLine(_ error: Error, _ file: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let s = "\(error)"
        #expect(s.hasPrefix(file) && !s.contains("\n") && !s.contains("DecodingError") && !s.contains("NSCocoaErrorDomain"), "\(s)",
                sourceLocation: sourceLocation)
    }

    @Test func mutatedIDXAndGzipFiles() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try IDXFixture.writeBars(to: dir.appending(path: "plain"), train: 6, test: 2)
        try IDXFixture.writeBars(to: dir.appending(path: "gz"), train: 6, test: 2, gzip: true)
        let seeds: [(bytes: [UInt8], rank: Int)] = [
            ([UInt8](try Data(contentsOf: dir.appending(path: "plain/train-images-idx3-ubyte"))), 3),
            ([UInt8](try Data(contentsOf: dir.appending(path: "plain/train-labels-idx1-ubyte"))), 1),
            ([UInt8](try Data(contentsOf: dir.appending(path: "gz/train-images-idx3-ubyte.gz"))), 3),
            ([UInt8](try Data(contentsOf: dir.appending(path: "gz/train-labels-idx1-ubyte.gz"))), 1),
        ]
        let path = dir.appending(path: "fuzz-idx").path
        var f = Fuzz(target: "idx")
        for _ in 0..<Fuzz.iterations(800) {
            let s = f.pick(seeds)
            var bytes = f.mutate(s.bytes)
            if f.below(8) == 0, let g = seeds.last { bytes += g.bytes }        // multi-member gzip and trailing data
            f.record(bytes)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let a = try IDXArray.read(path, rank: s.rank)
                #expect(a.bytes.count == a.dims.reduce(1, *))
            } catch { oneLine(error, path) }
        }
    }

    @Test func mutatedCheckpointsAndMetrics() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appending(path: "data"), run = dir.appending(path: "run")
        try IDXFixture.writeBars(to: data, train: 64, test: 32)
        for optimizer in ["adam", "momentum"] {
            let config = try TrainConfig.resolve(model: "convnet", file: try Registry.load("convnet"), data: data.path, epochs: 2, batchSize: 32, lr: 0.05,
                                                 optimizer: optimizer, weightDecay: 0, seed: 3, limit: nil, imageSize: nil, initialization: "hash", arguments: [])
            _ = try Trainer(config: config, directory: run.path, resume: false, progress: Progress(quiet: true), overwrite: true).run()
            let ckptPath = run.appending(path: "checkpoint.safetensors").path
            let original = try SafeTensors.read(ckptPath)
            let originalBytes = original.serialized()
            let metrics = [UInt8](try Data(contentsOf: run.appending(path: "metrics.csv")))
            let graph = try Registry.graph("convnet", input: [32, 1, 28, 28])
            let entries = graph.stateDict().map { (key: $0.key, count: $0.shape.reduce(1, *), isBuffer: $0.isBuffer) }
            let path = dir.appending(path: "fuzz.safetensors").path, metricsPath = dir.appending(path: "metrics.csv").path
            var f = Fuzz(target: "checkpoint-\(optimizer)")
            for _ in 0..<Fuzz.iterations(150) {
                var bytes: [UInt8]
                switch f.below(3) {
                case 0:        // a metadata value mutated as text (epoch, step, config JSON, records JSON)
                    var st = original
                    let key = f.pick(st.metadata.keys.sorted())
                    st.metadata[key] = f.mutate(text: st.metadata[key]!, tokens: ["\"", ",", "{", "}", "[", "]", ":", "null", "-", "\"lr\":", "\"epoch\":"])
                    bytes = st.serialized()
                case 1: bytes = f.mutate(originalBytes)
                default:       // a tensor's values: NaN, a short optimizer buffer
                    var st = original
                    let name = f.pick(st.names)
                    var values = try st.tensor(name).values
                    if f.below(2) == 0, !values.isEmpty { values[f.below(values.count)] = f.pick([.nan, .infinity, -1, 1e30]) } else { values.removeLast(min(values.count, 1 + f.below(2))) }
                    st.set(name, Tensor(shape: [values.count], values: values))
                    bytes = st.serialized()
                }
                let csv = f.below(3) == 0 ? f.mutate(text: String(decoding: metrics, as: UTF8.self), tokens: Fuzz.interestingNumbers + [","]) : String(decoding: metrics, as: UTF8.self)
                f.record(bytes + Array("\n--- metrics.csv ---\n\(csv)".utf8))
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                try Data(csv.utf8).write(to: URL(fileURLWithPath: metricsPath))
                do {
                    let c = try Checkpoint.read(path)
                    try c.config.validate(source: path)
                    try c.validate(path: path, entries: entries, batchesPerEpoch: 2)
                    _ = try Trainer.resumedRecords(c, metricsPath: metricsPath)
                } catch {
                    oneLine(error, "\(error)".hasPrefix(metricsPath) ? metricsPath : path)
                }
            }
        }
    }
}
