import ConvLensEngine
import ConvLensGraph
import Foundation
import Testing
@testable import ConvLensTrain
import TestSupport

/// A resumed run checks the checkpoint it trusts: each tampered field is refused with one line
/// naming the file and what is wrong (before, several crashed — Adam, momentum — or were accepted).
@Suite struct ResumeValidationTests {
    func config(_ data: URL, optimizer: String) throws -> TrainConfig {
        try TrainConfig.resolve(model: "convnet", file: try Registry.load("convnet"), data: data.path, epochs: 1, batchSize: 32, lr: 0.05,
                                optimizer: optimizer, weightDecay: 0, seed: 3, limit: nil, imageSize: nil, initialization: "hash", arguments: [])
    }

    /// Trains one epoch, lets `tamper` change the run folder, resumes for a second epoch; returns the error.
    func resumeError(optimizer: String = "momentum", _ tamper: (inout Checkpoint, URL) throws -> Void) throws -> String? {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = dir.appending(path: "data"), run = dir.appending(path: "run")
        try IDXFixture.writeBars(to: data, train: 64, test: 32)
        _ = try Trainer(config: try config(data, optimizer: optimizer), directory: run.path, resume: false, progress: Progress(quiet: true)).run()
        let path = run.appending(path: "checkpoint.safetensors").path
        var c = try Checkpoint.read(path)
        let keys = try SafeTensors.read(path).names.filter { !$0.hasPrefix("optimizer.") }
        try tamper(&c, run)
        try c.write(to: path, keys: keys)
        do {
            _ = try Trainer(config: try config(data, optimizer: optimizer), directory: run.path, resume: true, progress: Progress(quiet: true),
                            resumeOverrides: (2, nil)).run()
            return nil
        } catch {
            let s = "\(error)"
            #expect(!s.contains("\n") && !s.contains("DecodingError") && !s.contains("NSCocoaErrorDomain"), "\(s)")
            return s
        }
    }

    @Test func untouchedCheckpointResumes() throws {
        #expect(try resumeError { _, _ in } == nil)
        #expect(try resumeError(optimizer: "adam") { _, _ in } == nil)
    }

    @Test func metadataCounters() throws {
        #expect(try resumeError { c, _ in c.epoch = -1 }?.contains("the checkpoint's epoch is -1") == true)
        #expect(try resumeError { c, _ in c.optimizerStep += 1 }?.contains("optimizer step is 3 but 1 epochs of 2 batches take 2") == true)
    }

    @Test func configIsValidatedAsAFreshRunsOptions() throws {
        let e1 = try resumeError { c, _ in c.config.limit = -5 }
        #expect(e1?.contains("checkpoint.safetensors: the checkpoint's config has limit must be at least 1, got -5") == true, "\(e1 ?? "")")
        #expect(try resumeError { c, _ in c.config.optimizer = "rmsprop" }?.contains("unknown optimizer 'rmsprop'") == true)
        #expect(try resumeError { c, _ in c.config.lr = -0.1 }?.contains("lr must be a positive finite number, got -0.1") == true)
        #expect(try resumeError { c, _ in c.config.batchSize = 0 }?.contains("batch-size must be between 1 and 1048576, got 0") == true)
    }

    @Test func optimizerStateMustMatchTheModel() throws {
        let short = try resumeError { c, _ in
            let k = c.optimizerState.keys.sorted().first!
            c.optimizerState[k]!.removeLast()
        }
        #expect(short?.contains("optimizer state 'optimizer.momentum.conv_1.bias' has 7 elements, its parameter 8") == true, "\(short ?? "")")
        let adamShort = try resumeError(optimizer: "adam") { c, _ in
            let k = c.optimizerState.keys.sorted().last!
            c.optimizerState[k]!.removeLast()
        }
        #expect(adamShort?.contains("elements, its parameter") == true, "\(adamShort ?? "")")
        #expect(try resumeError(optimizer: "adam") { c, _ in c.optimizerState.removeValue(forKey: "adam_v.linear_1.bias") }?
            .contains("optimizer state 'optimizer.adam_v.linear_1.bias' is missing") == true)
        #expect(try resumeError { c, _ in c.optimizerState["momentum.nothing"] = [1] }?.contains("does not belong to momentum") == true)
        #expect(try resumeError(optimizer: "adam") { c, _ in c.optimizerState["adam_v.conv_1.bias"]![0] = -1 }?.contains("holds -1.0 at index 0") == true)
    }

    @Test func nonFiniteWeights() throws {
        let e = try resumeError { c, _ in c.state["conv_1.weight"]!.data[5] = .nan }
        #expect(e?.contains("tensor 'conv_1.weight' holds nan at index 5") == true, "\(e ?? "")")
        #expect(try resumeError { c, _ in c.state["linear_1.bias"]!.data[0] = .infinity }?.contains("holds inf") == true)
    }

    @Test func metricsRowsAreChecked() throws {
        for bad in ["nan", "1e300", "-1"] {
            let e = try resumeError { _, run in
                let m = run.appending(path: "metrics.csv")
                var lines = try String(contentsOf: m, encoding: .utf8).split(separator: "\n").map(String.init)
                var f = lines[1].split(separator: ",").map(String.init)
                f[1] = bad
                lines[1] = f.joined(separator: ",")
                try (lines.joined(separator: "\n") + "\n").write(to: m, atomically: true, encoding: .utf8)
            }
            #expect(e?.contains("metrics.csv:2: train_loss") == true, "\(bad): \(e ?? "")")
        }
        // A record in the checkpoint itself
        #expect(try resumeError { c, _ in c.records![0].testAcc = 1e300 }?.contains("epoch 1: test_acc 1e+300 is not between 0 and 1") == true)
        // metrics.csv disagreeing with the checkpoint
        let e = try resumeError { _, run in
            let m = run.appending(path: "metrics.csv")
            let text = try String(contentsOf: m, encoding: .utf8)
            var lines = text.split(separator: "\n").map(String.init)
            var f = lines[1].split(separator: ",").map(String.init)
            f[4] = "0.000001"
            lines[1] = f.joined(separator: ",")
            try (lines.joined(separator: "\n") + "\n").write(to: m, atomically: true, encoding: .utf8)
        }
        #expect(e?.contains("epoch 1's row disagrees with the checkpoint's record") == true, "\(e ?? "")")
    }

    @Test func garbledConfigNamesTheFieldNotFoundation() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var st = SafeTensors()
        st.set("w", Tensor(shape: [1], values: [0]))
        st.metadata = ["format": Checkpoint.format, "epoch": "1", "optimizer_step": "1", "config": "{\"model\": \"convnet\"}"]
        let p = dir.appending(path: "checkpoint.safetensors").path
        try writeAtomically(st.serialized(), to: p)
        #expect(throws: DataError.self) { try Checkpoint.read(p) }
        do { _ = try Checkpoint.read(p) } catch {
            #expect("\(error)" == "\(p): the checkpoint's config metadata has no 'data'", "\(error)")
        }
        st.metadata["config"] = "{not json"
        try writeAtomically(st.serialized(), to: p)
        do { _ = try Checkpoint.read(p) } catch { #expect("\(error)" == "\(p): the checkpoint's config metadata is not valid JSON", "\(error)") }
    }
}
