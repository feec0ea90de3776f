import ConvLensEngine
import ConvLensGraph
import Foundation
import Testing
@testable import ConvLensTrain
import TestSupport

/// A run folder is consistent after a kill at any instant: resumed, it ends identical to an
/// uninterrupted run (weights byte for byte, metrics except the timing columns). The 20-kill
/// campaign is `.ci/kill-campaign` (README: Development); here a seeded three-kill version.
@Suite(.serialized) struct KillResumeTests {
    static let common = ["--epochs", "3", "--batch-size", "32", "--init", "hash", "--seed", "5", "--optimizer", "momentum", "--lr", "0.05"]

    /// metrics.csv and run.json without seconds and images/s, which differ between any two runs.
    func timingFree(_ dir: URL) throws -> String {
        let m = try String(contentsOf: dir.appending(path: "metrics.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",").prefix(5).joined(separator: ",") }
        let r = try String(contentsOf: dir.appending(path: "run.json"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.contains("\"seconds\"") && !$0.contains("\"images_per_s\"") }.map(String.init)
        return (m + r).joined(separator: "\n")
    }

    /// The kill that lost a row: after the checkpoint of epoch 2 was replaced, before metrics.csv was.
    @Test func killBetweenCheckpointAndMetrics() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appending(path: "data")
        try IDXFixture.writeBars(to: data, train: 128, test: 32)
        func config(_ epochs: Int) throws -> TrainConfig {
            try TrainConfig.resolve(model: "convnet", file: try Registry.load("convnet"), data: data.path, epochs: epochs, batchSize: 32, lr: 0.05,
                                    optimizer: "momentum", weightDecay: 0, seed: 5, limit: nil, imageSize: nil, initialization: "hash", arguments: [])
        }
        let a = dir.appending(path: "a"), b = dir.appending(path: "b")
        _ = try Trainer(config: try config(3), directory: a.path, resume: false, progress: Progress(quiet: true)).run()
        _ = try Trainer(config: try config(1), directory: b.path, resume: false, progress: Progress(quiet: true)).run()
        let metricsAfterEpoch1 = try Data(contentsOf: b.appending(path: "metrics.csv"))
        let weightsAfterEpoch1 = try Data(contentsOf: b.appending(path: "weights.safetensors"))
        _ = try Trainer(config: try config(1), directory: b.path, resume: true, progress: Progress(quiet: true), resumeOverrides: (2, nil)).run()
        // The kill: epoch 2's checkpoint is on disk, its weights and metrics row are not; run.json is epoch 1's.
        try metricsAfterEpoch1.write(to: b.appending(path: "metrics.csv"))
        try weightsAfterEpoch1.write(to: b.appending(path: "weights.safetensors"))
        try Data("x".utf8).write(to: b.appending(path: ".metrics.csv.123.456.tmp"))
        _ = try Trainer(config: try config(2), directory: b.path, resume: true, progress: Progress(quiet: true), resumeOverrides: (3, nil)).run()
        #expect(try readMetrics(b.appending(path: "metrics.csv").path).count == 3)
        #expect(try timingFree(a) == timingFree(b))
        #expect(try Data(contentsOf: a.appending(path: "weights.safetensors")) == Data(contentsOf: b.appending(path: "weights.safetensors")))
        #expect(!FileManager.default.fileExists(atPath: b.appending(path: ".metrics.csv.123.456.tmp").path))
    }

    /// kill -9 of the CLI at seeded random instants (one of them right after a checkpoint), each
    /// followed by --resume (or a fresh start when no checkpoint was written yet).
    @Test func killAtRandomInstantsThenResume() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appending(path: "data")
        try IDXFixture.writeBars(to: data, train: 256, test: 64)
        let args = ["train", "convnet", "--data", data.path] + Self.common
        let t0 = Date()
        let ref = try runConvLens(args + ["--output-dir", dir.appending(path: "ref").path])
        #expect(ref.status == 0, "\(ref.stderr)")
        let duration = Date().timeIntervalSince(t0)
        var rng = SystemRandomNumberGenerator.seeded(17)
        for trial in 0..<3 {
            let run = dir.appending(path: "run\(trial)")
            let p = Process()
            p.executableURL = Paths.convlens
            p.arguments = args + ["--output-dir", run.path]
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            if trial == 0 {          // right after the first checkpoint appears
                let ckpt = run.appending(path: "checkpoint.safetensors").path
                let deadline = Date().addingTimeInterval(120)
                while !FileManager.default.fileExists(atPath: ckpt) && Date() < deadline && p.isRunning { usleep(1_000) }
            } else {
                usleep(UInt32(Double(rng.next() % 1000) / 1000 * duration * 1e6))
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal {       // (a loaded machine may have let it finish first)
                let hasCheckpoint = FileManager.default.fileExists(atPath: run.appending(path: "checkpoint.safetensors").path)
                let r = hasCheckpoint ? try runConvLens(["train", "convnet", "--resume", run.path])
                                      : try runConvLens(args + ["--output-dir", run.path, "--force"])
                #expect(r.status == 0, "trial \(trial): \(r.stderr)")
            }
            #expect(try timingFree(dir.appending(path: "ref")) == timingFree(run), "trial \(trial)")
            #expect(try Data(contentsOf: dir.appending(path: "ref/weights.safetensors")) == Data(contentsOf: run.appending(path: "weights.safetensors")), "trial \(trial)")
        }
    }
}

extension SystemRandomNumberGenerator {
    /// A seeded SplitMix64 (the kill instants are reproducible).
    static func seeded(_ seed: UInt64) -> SplitMix64 { SplitMix64(state: seed) }
}
