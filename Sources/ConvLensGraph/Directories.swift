import Foundation

/// `mkdir -p` whose failure is one line naming the folder and the system's reason (Foundation's
/// `createDirectory` reports "NSCocoaErrorDomain error 512" for a path through a file).
public enum Directories {
    public static func create(_ path: String) throws(AtomicFile.Failure) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: current, isDirectory: &isDir) {
                guard isDir.boolValue else { throw AtomicFile.Failure(path: path, reason: "\(current) is a file, not a folder") }
                continue
            }
            if mkdir(current, 0o777) != 0 && errno != EEXIST {
                throw AtomicFile.Failure(path: path, reason: "cannot create folder \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
