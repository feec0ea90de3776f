import CGraphviz
import Foundation

// The only file that imports CGraphviz: everything Graphviz does goes through `Graphviz.render`.
//
// Graphviz (2.42) is not thread-safe: the DOT parser keeps global state, plugin loading races,
// and the error hook is a process-wide global. Every call below, context creation and
// destruction included, runs under one process-wide lock.

/// The formats libgvc renders in-process (PNG and PDF come from the cairo plugin).
public enum DiagramFormat: String, Sendable, CaseIterable {
    case svg, png, pdf, dot

    /// The format a file name's extension names (`net.svg` → .svg), or nil.
    public init?(fileName: String) {
        let ext = (fileName as NSString).pathExtension.lowercased()
        self.init(rawValue: ext == "gv" ? "dot" : ext)
    }
}

/// What went wrong drawing a diagram, as one line for users.
public struct DiagramError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

enum Graphviz {
    private static let lock = NSLock()
    /// What Graphviz reported through the error hook during the current call; guarded by `lock`.
    /// The hook receives pieces ("Error", ": ", "syntax error in line 1 …\n"), so they are joined.
    nonisolated(unsafe) private static var reported = ""

    /// Lays out DOT text with the `dot` engine and renders it to `format` (svg, png, pdf) in memory;
    /// also returns the warnings Graphviz reported (errors throw).
    static func render(_ dot: String, format: String) throws(DiagramError) -> (bytes: [UInt8], warnings: [String]) {
        lock.lock()
        defer { lock.unlock() }
        reported = ""
        _ = agseterrf { text in
            if let text { Graphviz.reported += String(cString: text) }
            return 0
        }
        _ = agreseterrors()
        defer { _ = agseterrf(nil) }

        guard let gvc = gvContext() else { throw DiagramError("Graphviz: cannot create a context") }
        defer { gvFreeContext(gvc) }

        let parsed: UnsafeMutablePointer<Agraph_t>? = dot.withCString { convlens_read_dot($0) }   // IDs in creation order: renders depend on the text alone
        guard let g = parsed else { throw failure("cannot parse the generated DOT text") }
        defer { agclose(g) }

        guard gvLayout(gvc, g, "dot") == 0 else { throw failure("layout failed") }
        defer { gvFreeLayout(gvc, g) }

        var data: UnsafeMutablePointer<CChar>?
        var length: UInt32 = 0   // `unsigned int *` in Graphviz 2.42 (size_t in newer releases)
        let rc = gvRenderData(gvc, g, format, &data, &length)
        defer { if let data { gvFreeRenderData(data) } }
        guard rc == 0, let data else { throw failure("cannot render \(format)") }
        // agerrors() is the highest level reported since agreseterrors(): warnings are fine.
        if agerrors() >= Int32(AGERR.rawValue) { throw failure("rendering \(format) reported an error") }
        let bytes = data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
        return (bytes, reportedLines)
    }

    /// The hook's text as lines ("Warning: …", "Error: …", continuation lines).
    private static var reportedLines: [String] {
        reported.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Graphviz's own message (the first error it reported) appended to ours.
    private static func failure(_ what: String) -> DiagramError {
        let lines = reportedLines
        let detail = lines.first { $0.hasPrefix("Error") } ?? lines.first
        return DiagramError("Graphviz: \(what)" + (detail.map { " (\($0))" } ?? ""))
    }

    /// The Graphviz library version, e.g. "2.43.0".
    static var version: String {
        lock.lock()
        defer { lock.unlock() }
        guard let gvc = gvContext() else { return "unknown" }
        defer { gvFreeContext(gvc) }
        return gvcVersion(gvc).map { String(cString: $0) } ?? "unknown"
    }
}
