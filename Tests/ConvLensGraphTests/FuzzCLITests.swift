import Foundation
import Testing
import TestSupport

/// Fuzzing the command line through the binary: mutated invocations of the static commands exit
/// 0 or 1 — never a signal, never ArgumentParser's exit 64 — and an error is one line on stderr.
@Suite struct FuzzCLITests {
    static let bases: [[String]] = [
        ["print", "convnet"], ["analyze", "lenet5", "--format", "json"], ["summary", "convnet", "--depth", "2", "--columns", "output,params,macs,rf"],
        ["explain", "convnet", "conv_1"], ["diagram", "lenet5", "-o", "OUT.dot", "--depth", "1"], ["list", "--family", "res"],
        ["analyze", "convnet", "--input", "1x1x28x28", "--arg", "num_classes=10", "--convention", "fvcore"],
        ["summary", "lenet5", "--input", "2x1x32x32", "--mode", "train"],
    ]
    static let tokens = ["--input", "--arg", "--mode", "--format", "--depth", "--columns", "--convention", "-o", "--help", "x", "1x1xx28x28",
                         "9223372036854775807x1x28x28", "1x1x28x28x", "num_classes=", "aux_logits=true", "eval", "train", "text", "csv",
                         "--", "-", "=", "nan", "", "\u{00e9}", "googlenet", "resnet18", "/nonexistent.zoo", "features.0"]

    @Test func mutatedCommandLines() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-fuzzcli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var f = Fuzz(target: "cli")
        for _ in 0..<Fuzz.iterations(30) {
            var args = f.pick(Self.bases).map { $0 == "OUT.dot" ? dir.appending(path: "out.dot").path : $0 }
            for _ in 0...f.below(3) {
                let i = f.below(args.count + 1)
                switch f.below(4) {
                case 0: args.insert(f.pick(Self.tokens + Fuzz.interestingNumbers), at: i)
                case 1 where i < args.count: args[i] = f.pick(Self.tokens + Fuzz.interestingNumbers)
                case 2 where i < args.count && i > 0: args.remove(at: i)
                default:
                    if i < args.count, let d = args[i].firstIndex(where: \.isNumber) {
                        args[i] = String(args[i][..<d]) + f.pick(Fuzz.interestingNumbers) + String(args[i][args[i].index(after: d)...])
                    }
                }
            }
            f.record(Array(args.joined(separator: "\u{0}").utf8))
            let r = try runConvLens(args)
            #expect(r.status == 0 || r.status == 1, "\(args): status \(r.status) \(r.stderr)")
            if r.status == 1 {
                #expect(r.stderr.hasPrefix("convlens: ") && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            }
        }
    }
}
