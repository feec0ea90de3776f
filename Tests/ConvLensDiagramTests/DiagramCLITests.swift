import Foundation
import Testing
import TestSupport

/// `convlens diagram` as users run it: the built binary, its exit codes, stderr and files.
struct DiagramCLITests {
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-diagram-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesTheFormatOfTheExtension() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runConvLens(["diagram", "resnet18", "--depth", "2", "-o", "r.svg"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "wrote r.svg (svg)\n")
        #expect(r.stderr.isEmpty)
        let svg = try String(contentsOf: dir.appending(path: "r.svg"), encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains("layer1.0"))
        let p = try runConvLens(["diagram", "convnet", "-o", "c.out", "--format", "png", "--rankdir", "LR"], cwd: dir)
        #expect(p.status == 0, "\(p.stderr)")
        let png = try Data(contentsOf: dir.appending(path: "c.out"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }

    @Test(arguments: [
        (["-o", "x.jpg"], "unknown diagram format '.jpg'"),
        (["-o", "x.svg", "--format", "gif"], "unknown diagram format 'gif'"),
        (["-o", "missing/dir/x.svg"], "does not exist"),
        (["-o", "x.svg", "--depth", "0"], "--depth expects a whole number of at least 1"),
        (["-o", "x.svg", "--depth", "two"], "--depth expects a whole number of at least 1"),
        (["-o", "x.svg", "--rankdir", "BT"], "--rankdir expects TB or LR"),
        (["-o", "x.svg", "--mode", "test"], "--mode expects eval or train"),
        (["-o", "x.svg", "--input", "1x1x4x4"], "lenet5.zoo:"),
    ])
    func errorsAreOneLineExitOneAndNoFile(args: [String], words: String) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runConvLens(["diagram", "lenet5"] + args, cwd: dir)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("convlens: ") && r.stderr.contains(words), "\(r.stderr)")
        #expect(r.stderr.filter { $0 == "\n" }.count == 1, "one line: \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "no file left behind")
    }
}
