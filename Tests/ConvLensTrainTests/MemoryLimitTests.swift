import ConvLensEngine
import Foundation
import Testing
import TestSupport

/// Under a memory limit a run that cannot fit is refused with one line before it starts. Before,
/// `train` under `prlimit --as=512MiB` spun at full CPU for ever (OpenBLAS retrying a failed buffer
/// allocation) and an oversized `verify` aborted with a backtrace.
@Suite struct MemoryLimitTests {
    /// Runs the binary with a time limit; (status, stderr), status nil when it had to be killed.
    func run(_ exe: URL, _ args: [String], env: [String: String] = [:], seconds: Double = 60) throws -> (Int32?, String) {
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit(); return (nil, "") }
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (p.terminationStatus, e)
    }

    @Test func trainUnderA512MiBAddressSpaceLimit() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try IDXFixture.writeBars(to: dir.appending(path: "data"), train: 256, test: 64)
        let (status, stderr) = try run(URL(fileURLWithPath: "/usr/bin/prlimit"),
                                       ["--as=536870912", Paths.convlens.path, "train", "convnet", "--data", dir.appending(path: "data").path,
                                        "--epochs", "1", "--output-dir", dir.appending(path: "run").path])
        #expect(status == 1, "\(stderr)")
        #expect(stderr.hasPrefix("convlens: error: convnet at input 128×1×28×28 needs about"), "\(stderr)")
        #expect(stderr.contains("the address-space limit (ulimit -v / prlimit --as) of 512 MiB leaves"), "\(stderr)")
        #expect(stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.appending(path: "run/checkpoint.safetensors").path))
    }

    @Test func verifyOfATensorLargerThanTheLimit() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zoo = dir.appending(path: "wide.zoo")
        try "model wide class Wide\ninput 1 1073741824 1 1\na = Identity <- $in\nb = torch.cat(1) <- a, a\n".write(to: zoo, atomically: true, encoding: .utf8)
        let (status, stderr) = try run(Paths.convlens, ["verify", zoo.path], env: ["CONVLENS_MEMORY_LIMIT": "1G"])
        #expect(status == 1, "\(stderr)")
        #expect(stderr.contains("but CONVLENS_MEMORY_LIMIT=1G leaves 1024 MiB; use a smaller batch or input, or raise the limit"), "\(stderr)")
        #expect(stderr.split(separator: "\n").count == 1)
    }

    @Test func limitsAndSizes() {
        #expect(MemoryBudget.problem(tensorBytes: 1 << 20, threads: 2, what: "x") == nil)   // this machine has 1 MiB to spare
        #expect(MemoryBudget.problem(tensorBytes: Int.max / 2, threads: 2, what: "x")?.hasPrefix("x needs about") == true)
    }
}
