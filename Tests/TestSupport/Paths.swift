import Foundation

/// Where the tests find the package, the PyTorch reference data and the built `convlens` binary.
public enum Paths {
    /// The package root, from this file's location (Tests/TestSupport/Paths.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// ../shared/reference, produced by PyTorch 2.15 / torchvision 0.29.
    public static let reference: URL = packageRoot.deletingLastPathComponent().appending(path: "shared/reference")

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
