import ConvLensGraph
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

    /// The seven classic networks the registry started with (hand-written zoo files).
    public static let classicModels = ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"]

    /// The seven classic networks and the smallest builder of every other family (the export tests' set).
    public static let classicAndOnePerFamily: [String] = {
        var out = classicModels
        var families = Set(out.map(Registry.family))
        for m in Registry.names where !families.contains(Registry.family(m)) {
            families.insert(Registry.family(m)); out.append(m)
        }
        return out
    }()

    /// Every model in the registry: the zoo files under zoo/.
    public static let registryModels: [String] = {
        let dir = packageRoot.appending(path: "zoo")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".zoo") }.map { String($0.dropLast(4)) }.sorted()
    }()

    /// Every model with a reference folder (../shared/reference/models/NAME): the oracle's models.
    public static let referenceModels: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: reference.appending(path: "models").path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: referenceModel($0, "repr.txt").path) }.sorted()
    }()

    /// Registry builders without a reference folder whose torch print was saved as a fixture
    /// (Tests/Fixtures/NAME.repr.txt, written by torch 2.15 / torchvision 0.29 on this machine).
    public static let fixtureReprModels: [String] = registryModels.filter {
        !referenceModels.contains($0) && FileManager.default.fileExists(atPath: fixture("\($0).repr.txt").path)
    }

    /// The input the reference figures were computed at (totals.json's input_shape).
    public static func referenceInput(_ model: String) -> [Int]? {
        guard let t = try? referenceJSON(model, "totals.json") as? [String: Any], let s = t["input_shape"] as? [Int] else { return nil }
        return s
    }
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
