import Foundation

/// Where the tests find the package, the PyTorch reference data and the built `convlens` binary.
public enum Paths {
    /// The package root, from this file's location (Tests/TestSupport/Paths.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// ../shared/reference (beside the package), produced by PyTorch 2.15 / torchvision 0.29.
    /// A clone elsewhere finds it through $CONVLENS_REFERENCE or the workspace's /work/shared/reference.
    public static let reference: URL = {
        var candidates = [packageRoot.deletingLastPathComponent().appending(path: "shared/reference")]
        if let env = ProcessInfo.processInfo.environment["CONVLENS_REFERENCE"] { candidates.insert(URL(fileURLWithPath: env), at: 0) }
        candidates.append(URL(fileURLWithPath: "/work/shared/reference"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appending(path: "README.md").path) } ?? candidates[0]
    }()

    public static func referenceModel(_ model: String, _ file: String) -> URL {
        reference.appending(path: "models/\(model)/\(file)")
    }

    public static func referenceText(_ model: String, _ file: String) throws -> String {
        try String(contentsOf: referenceModel(model, file), encoding: .utf8)
    }

    public static func referenceJSON(_ model: String, _ file: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: referenceModel(model, file)))
    }

    /// Test fixtures under Tests/Fixtures.
    public static func fixture(_ name: String) -> URL { packageRoot.appending(path: "Tests/Fixtures/\(name)") }

    /// The `convlens` executable built next to the test bundle.
    public static var convlens: URL {
        let dir = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appending(path: "convlens")
    }

    public static let registryModels = ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"]
}

/// The result of running the built binary.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `convlens ARGS…` and captures its output.
public func runConvLens(_ args: [String], cwd: URL? = nil) throws -> ProcessResult {
    let p = Process()
    p.executableURL = Paths.convlens
    p.arguments = args
    if let cwd { p.currentDirectoryURL = cwd }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read before waiting so large outputs cannot fill the pipe and block.
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}
