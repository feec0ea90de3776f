import Foundation

/// Reference data for the engine tests: ../shared/reference/vectors/*.safetensors.
public enum EnginePaths {
    public static func vectors(_ name: String) -> String {
        Paths.reference.appending(path: "vectors/\(name).safetensors").path
    }

    /// A fresh temporary directory for one test.
    public static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
