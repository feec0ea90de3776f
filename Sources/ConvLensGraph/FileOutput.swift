import Foundation

/// The one way ConvLens writes files: the bytes go to a temporary file beside `path`, then
/// rename(2) replaces the target atomically, so readers never see a partial file and a good file
/// is never lost to a failed write. Every module's writer (reports, diagrams, weights,
/// checkpoints, metrics) goes through here.
public enum AtomicFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): cannot write (\(reason))" }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws(Failure) {
        let url = URL(fileURLWithPath: path)
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        guard FileManager.default.createFile(atPath: tmp, contents: Data(bytes)) else {
            let dir = url.deletingLastPathComponent().path
            throw Failure(path: path, reason: FileManager.default.fileExists(atPath: dir) ? "the folder is not writable" : "no folder \(dir)")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw Failure(path: path, reason: reason)
        }
    }
}

/// A JSON string literal: quotes, backslashes and control characters escaped.
public func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
