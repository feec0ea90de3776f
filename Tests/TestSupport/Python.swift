import Foundation

/// Debian's python3 with python3-torch (1.13, CPU), which `.ci/install-deps` installs: the
/// interpreter the PyTorch export tests run generated code under.
public enum SystemPython {
    public static let path = "/usr/bin/python3"

    /// Runs `python3 ARGS…` (or any executable) with extra environment variables; output goes to
    /// files, so a chatty child can never block on a full pipe.
    public static func run(_ args: [String], executable: String = path, environment: [String: String] = [:], cwd: URL? = nil) throws -> ProcessResult {
        try start(args, executable: executable, environment: environment, cwd: cwd).wait()
    }

    public static func start(_ args: [String], executable: String = path, environment: [String: String] = [:], cwd: URL? = nil) throws -> Running {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let cwd { p.currentDirectoryURL = cwd }
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appending(path: "convlens-py-\(UUID().uuidString).out"), err = dir.appending(path: "convlens-py-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        return Running(process: p, out: out, err: err)
    }

    public struct Running {
        public let process: Process
        let out: URL, err: URL
        public func wait() -> ProcessResult {
            process.waitUntilExit()
            let o = (try? String(contentsOf: out, encoding: .utf8)) ?? "", e = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err)
            return ProcessResult(status: process.terminationStatus, stdout: o, stderr: e)
        }
    }

    /// Why torch cannot be imported (nil when it can): the tests fail with this, they do not skip.
    public static func torchProblem() -> String? {
        guard FileManager.default.isExecutableFile(atPath: path) else { return "\(path) is missing: run .ci/install-deps (python3-torch)" }
        guard let r = try? run(["-c", "import torch"]), r.status == 0 else {
            return "\(path) cannot import torch: run .ci/install-deps (it installs Debian's python3-torch)"
        }
        return nil
    }

    /// A TCP port that was free a moment ago (for MASTER_PORT).
    public static func freePort() -> Int {
        let r = try? run(["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return Int(r?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 29517
    }
}

/// The virtual environment `.ci/install-deps` creates with onnx, onnxruntime and numpy from PyPI:
/// `$CONVLENS_ONNX_VENV`, else /opt/convlens-venv (root) or ~/.local/share/convlens/venv.
public enum ONNXPython {
    public static var venv: String {
        if let v = ProcessInfo.processInfo.environment["CONVLENS_ONNX_VENV"], !v.isEmpty { return v }
        let candidates = ["/opt/convlens-venv", NSHomeDirectory() + "/.local/share/convlens/venv"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/bin/python") } ?? (getuid() == 0 ? candidates[0] : candidates[1])
    }
    public static var path: String { venv + "/bin/python" }

    /// Why onnx and onnxruntime cannot be imported (nil when they can): the tests fail with this.
    public static func problem() -> String? {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return "\(path) is missing: run .ci/install-deps (it creates \(venv) with onnx and onnxruntime from PyPI)"
        }
        guard let r = try? SystemPython.run(["-c", "import onnx, onnxruntime, numpy"], executable: path), r.status == 0 else {
            return "\(path) cannot import onnx, onnxruntime and numpy: run .ci/install-deps"
        }
        return nil
    }

    /// Runs a Python script under the venv's interpreter.
    public static func run(_ script: String, _ args: [String]) throws -> ProcessResult {
        try SystemPython.run(["-c", script] + args, executable: path)
    }
}
