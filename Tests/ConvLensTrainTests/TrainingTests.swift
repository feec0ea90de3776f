import ConvLensEngine
import Foundation
import Testing
@testable import ConvLensTrain
import TestSupport
import ConvLensGraph

/// Training on small IDX folders the tests write (four learnable "bar" classes).
@Suite struct TrainingTests {
    func config(_ data: URL, epochs: Int, lr: Double = 0.1) throws -> TrainConfig {
        try TrainConfig.resolve(model: "convnet", file: try Registry.load("convnet"), data: data.path, epochs: epochs, batchSize: 32, lr: lr,
                                optimizer: "momentum", weightDecay: 0, seed: 3, limit: nil, imageSize: nil, initialization: "hash", arguments: [])
    }

    @Test func lossFallsAndAccuracyBeatsChance() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try IDXFixture.writeBars(to: dir.appending(path: "data"), train: 512, test: 128) 
        let t = try Trainer(config: try config(dir.appending(path: "data"), epochs: 3, lr: 0.02), directory: dir.appending(path: "run").path, resume: false, progress: Progress(quiet: true))
        let r = try t.run()
        #expect(r.count == 3)
        #expect(r[2].trainLoss < r[0].trainLoss)
        #expect(r[2].testAcc > 0.5)   // four classes: chance is 0.25
        for f in ["metrics.csv", "checkpoint.safetensors", "weights.safetensors", "run.json", "curves.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.appending(path: "run/\(f)").path), "\(f)")
        }
        let metrics = try String(contentsOf: dir.appending(path: "run/metrics.csv"), encoding: .utf8).split(separator: "\n")
        #expect(metrics.first == "epoch,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s")
        #expect(metrics.count == 4)
        let run = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appending(path: "run/run.json"))) as? [String: Any])
        #expect(run["model"] as? String == "convnet")
        #expect((run["epochs"] as? [Any])?.count == 3)
        #expect(run["test_acc"] as? Double == r[2].testAcc)
        // weights.safetensors loads back strictly and evaluates to the same accuracy
        let e = try Evaluation.run(model: "convnet", weights: dir.appending(path: "run/weights.safetensors").path, data: dir.appending(path: "data").path,
                                   arguments: [], imageSize: nil, batchSize: 32)
        #expect(abs(e.accuracy - r[2].testAcc) < 1e-9)
        #expect(e.confusion.count == 4 && e.confusion.joined().reduce(0, +) == 128)
    }

    @Test func resumeGivesTheSameResultAsNoInterruption() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appending(path: "data")
        try IDXFixture.writeBars(to: data, train: 256, test: 64)
        let straight = try Trainer(config: try config(data, epochs: 3), directory: dir.appending(path: "a").path, resume: false, progress: Progress(quiet: true)).run()
        _ = try Trainer(config: try config(data, epochs: 1), directory: dir.appending(path: "b").path, resume: false, progress: Progress(quiet: true)).run()
        let resumed = try Trainer(config: try config(data, epochs: 1), directory: dir.appending(path: "b").path, resume: true, progress: Progress(quiet: true),
                                  resumeOverrides: (3, nil)).run()
        #expect(resumed.count == 3 && straight.count == 3)
        // Compare what both runs wrote (epoch 1 of the resumed run is read back from its metrics.csv).
        let ra = try readMetrics(dir.appending(path: "a/metrics.csv").path)
        let rb = try readMetrics(dir.appending(path: "b/metrics.csv").path)
        #expect(ra.count == 3 && rb.count == 3)
        for (x, y) in zip(ra, rb) {
            #expect(x.trainLoss == y.trainLoss && x.testLoss == y.testLoss && x.testAcc == y.testAcc && x.trainAcc == y.trainAcc)
        }
        let wa = try Data(contentsOf: dir.appending(path: "a/weights.safetensors"))
        let wb = try Data(contentsOf: dir.appending(path: "b/weights.safetensors"))
        #expect(wa == wb)
    }

    @Test func nanLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appending(path: "data")
        try IDXFixture.writeBars(to: data, train: 128, test: 32)
        let run = dir.appending(path: "run")
        _ = try Trainer(config: try config(data, epochs: 1), directory: run.path, resume: false, progress: Progress(quiet: true)).run()
        let before = try Data(contentsOf: run.appending(path: "checkpoint.safetensors"))
        let t = try Trainer(config: try config(data, epochs: 1), directory: run.path, resume: true, progress: Progress(quiet: true), resumeOverrides: (2, 1e12))
        do {
            try t.run()
            Issue.record("a 1e12 learning rate should blow up")
        } catch {
            #expect("\(error)".contains("at epoch 2, batch"), "\(error)")
            #expect("\(error)".contains("last good checkpoint (epoch 1) is intact"))
        }
        #expect(try Data(contentsOf: run.appending(path: "checkpoint.safetensors")) == before)
    }

    /// The CLI run killed with SIGKILL mid-epoch, then resumed, ends like an uninterrupted run.
    @Test func sigkillMidEpochThenResume() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appending(path: "data")
        try IDXFixture.writeBars(to: data, train: 1024, test: 64)
        let common = ["train", "convnet", "--data", data.path, "--epochs", "3", "--batch-size", "16", "--init", "hash", "--seed", "5", "--optimizer", "momentum", "--lr", "0.05"]
        let a = try runConvLens(common + ["--output-dir", dir.appending(path: "a").path])
        #expect(a.status == 0, "\(a.stderr)")

        let p = Process()
        p.executableURL = Paths.convlens
        p.arguments = common + ["--output-dir", dir.appending(path: "b").path]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let metrics = dir.appending(path: "b/metrics.csv").path
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {   // wait for the first checkpoint, then kill mid-way through epoch 2
            if let s = try? String(contentsOfFile: metrics, encoding: .utf8), s.split(separator: "\n").count >= 2 { break }
            usleep(20_000)
        }
        usleep(150_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal)
        let b = try runConvLens(["train", "convnet", "--resume", dir.appending(path: "b").path])
        #expect(b.status == 0, "\(b.stderr)")
        let ra = try readMetrics(dir.appending(path: "a/metrics.csv").path)
        let rb = try readMetrics(metrics)
        #expect(ra.count == 3 && rb.count == 3)
        for (x, y) in zip(ra, rb) { #expect(x.trainLoss == y.trainLoss && x.testAcc == y.testAcc && x.testLoss == y.testLoss) }
        #expect(try Data(contentsOf: dir.appending(path: "a/weights.safetensors")) == Data(contentsOf: dir.appending(path: "b/weights.safetensors")))

        // A finished run's folder is not overwritten by a new run without --force (it was, silently).
        let before = try Data(contentsOf: dir.appending(path: "a/checkpoint.safetensors"))
        let again = try runConvLens(common + ["--epochs", "1", "--output-dir", dir.appending(path: "a").path])
        #expect(again.status == 1)
        #expect(again.stderr.contains("this folder already holds a run; continue it with --resume"), "\(again.stderr)")
        #expect(again.stderr.split(separator: "\n").count == 1)
        #expect(try Data(contentsOf: dir.appending(path: "a/checkpoint.safetensors")) == before)
        let forced = try runConvLens(common + ["--epochs", "1", "--output-dir", dir.appending(path: "a").path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try readMetrics(dir.appending(path: "a/metrics.csv").path).count == 1)
    }

    @Test func badOptionsAreClearErrors() throws {
        let r = try runConvLens(["train", "convnet", "--data", "/nonexistent/folder", "--epochs", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/folder: no such data folder"))
        let o = try runConvLens(["train", "convnet", "--optimizer", "rmsprop"])
        #expect(o.status == 1 && o.stderr.contains("unknown optimizer 'rmsprop'"))
    }
}
