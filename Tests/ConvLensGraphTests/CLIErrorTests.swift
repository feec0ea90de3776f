import Foundation
import Testing
import TestSupport

/// The whole CLI reports bad input one way: one line on stderr starting `convlens: `, exit 1 —
/// ArgumentParser's usage errors included (they printed error, help and usage, exit 64); help exits 0.
@Suite struct CLIErrorTests {
    func expectOneLine(_ args: [String], mentions: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let r = try runConvLens(args)
        #expect(r.status == 1, "\(args): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("convlens: ") && r.stderr.hasSuffix("\n"), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(mentions), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
        for foreign in ["NSCocoaErrorDomain", "DecodingError", "Usage:", "Help:"] {
            #expect(!r.stderr.contains(foreign), "\(args): \(r.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func usageErrorsAreOneLineExit1() throws {
        try expectOneLine(["analyze", "convnet", "--mode", "test"], mentions: "The value 'test' is invalid for '--mode <mode>'")
        try expectOneLine(["diagram", "convnet", "--mode", "test", "-o", "/tmp/never.dot"], mentions: "--mode expects eval or train, got 'test'")
        try expectOneLine(["analyze"], mentions: "Missing expected argument '<model>'")
        try expectOneLine(["frobnicate"], mentions: "Unexpected argument 'frobnicate'")
        try expectOneLine(["train", "convnet", "--epochs", "many"], mentions: "The value 'many' is invalid for '--epochs <epochs>'")
    }

    @Test func nonFiniteAndNonPositiveNumbers() throws {
        for step in ["nan", "inf", "-0.001", "0", "2"] {      // --step=-x: ArgumentParser reads "-0.001" alone as an option
            try expectOneLine(["verify", "convnet", "--step=\(step)"], mentions: "--step must be a finite relative step between 0 and 1")
        }
        try expectOneLine(["verify", "convnet", "--nodes-per-kind", "0"], mentions: "--nodes-per-kind must be at least 1")
        for lr in ["nan", "inf", "0", "-1"] { try expectOneLine(["train", "convnet", "--lr=\(lr)"], mentions: "--lr: must be a positive finite number") }
        try expectOneLine(["train", "convnet", "--weight-decay", "nan"], mentions: "--weight-decay: must be a finite number ≥ 0")
        try expectOneLine(["train", "convnet", "--batch-size", "4611686018427387904"], mentions: "--batch-size: must be between 1 and 1048576")
        try expectOneLine(["doctor", "--size", "100000"], mentions: "--size must be between 1 and 8192")
        try expectOneLine(["eval", "convnet", "--weights", "w.safetensors", "--limit", "0"], mentions: "--limit must be at least 1")
    }

    @Test func helpStillExitsZero() throws {
        for args in [["--help"], ["help", "analyze"], ["analyze", "--help"], []] {
            let r = try runConvLens(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(r.stdout.contains("USAGE:"), "\(args)")
        }
    }

    @Test func fileErrorsNameTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let zoo = dir.appending(path: "latin1.zoo")
        try Data("model m class M\ninput 1 3 8 8\n# caf\u{E9} in Latin-1\nr = ReLU()\n".data(using: .isoLatin1)!).write(to: zoo)
        try expectOneLine(["print", zoo.path], mentions: "\(zoo.path):3:6: error: not UTF-8 text: byte 0xE9")
        let file = dir.appending(path: "plain")
        try Data("x".utf8).write(to: file)
        try expectOneLine(["train", "convnet", "--epochs", "1", "--output-dir", file.path + "/run"],
                          mentions: "cannot create the run folder (\(file.path) is a file, not a folder)")
        try expectOneLine(["report", "--output", file.path], mentions: "\(file.path) is a file, not a folder")
    }
}
