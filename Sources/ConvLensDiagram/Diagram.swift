import ConvLensGraph
import Foundation

/// Architecture diagrams: DOT text from a `ModelGraph`, laid out and rendered in-process by libgvc.
///
///     let dot = try Diagram.dot(graph, DiagramOptions(depth: 2))
///     let svg = try Diagram.render(dot, format: .svg)
///     try Diagram.write(svg, to: "reports/resnet18.svg")
public enum Diagram {
    /// The DOT text for a graph: one node per call (or per collapsed container), clusters for containers.
    public static func dot(_ graph: ModelGraph, _ options: DiagramOptions = DiagramOptions()) throws(DiagramError) -> String {
        let plan = try DiagramPlan(graph, options)
        var writer = DOTWriter(graph: graph, plan: plan, options: options)
        return writer.text()
    }

    /// Lays DOT text out with Graphviz's `dot` engine and renders it in memory; `.dot` returns the text.
    public static func render(_ dot: String, format: DiagramFormat) throws(DiagramError) -> [UInt8] {
        try renderReportingWarnings(dot, format: format).bytes
    }

    /// `render`, plus the warnings Graphviz printed (e.g. "Warning: cell size too small for content").
    public static func renderReportingWarnings(_ dot: String, format: DiagramFormat) throws(DiagramError) -> (bytes: [UInt8], warnings: [String]) {
        format == .dot ? (Array(dot.utf8), []) : try Graphviz.render(dot, format: format.rawValue)
    }

    /// The format to write: `format` when given (svg|png|pdf|dot), else the file's extension.
    public static func format(_ format: String?, for path: String) throws(DiagramError) -> DiagramFormat {
        let names = DiagramFormat.allCases.map(\.rawValue).joined(separator: ", ")
        if let format {
            guard let f = DiagramFormat(rawValue: format.lowercased()) else {
                throw DiagramError("unknown diagram format '\(format)' (use one of \(names))")
            }
            return f
        }
        guard let f = DiagramFormat(fileName: path) else {
            let ext = (path as NSString).pathExtension
            throw DiagramError(ext.isEmpty
                ? "cannot tell the diagram format of '\(path)': give the file an extension (\(names)) or --format"
                : "unknown diagram format '.\(ext)' of '\(path)' (use one of \(names), or --format)")
        }
        return f
    }

    /// Renders `graph` and writes the file at `path`; nothing is left behind on failure.
    /// Returns Graphviz's warnings, if it had any.
    @discardableResult
    public static func write(_ graph: ModelGraph, options: DiagramOptions = DiagramOptions(), format: DiagramFormat, to path: String) throws(DiagramError) -> [String] {
        try checkWritable(path)
        let (bytes, warnings) = try renderReportingWarnings(dot(graph, options), format: format)
        try write(bytes, to: path)
        return warnings
    }

    /// Writes bytes to a temporary file beside `path`, then renames it: readers never see a partial file.
    public static func write(_ bytes: [UInt8], to path: String) throws(DiagramError) {
        try checkWritable(path)
        do { try AtomicFile.write(bytes, to: path) } catch { throw DiagramError("cannot write '\(path)': \(error.reason)") }
    }

    /// Fails early, with a reason, when `path` cannot be written: saves rendering for nothing.
    static func checkWritable(_ path: String) throws(DiagramError) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw DiagramError("cannot write '\(path)': it is a directory")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw DiagramError("cannot write '\(path)': directory '\(dir)' does not exist")
        }
        guard fm.isWritableFile(atPath: dir) else {
            throw DiagramError("cannot write '\(path)': directory '\(dir)' is not writable")
        }
    }

    private static func reason(_ error: Error) -> String {
        if let e = error as? DiagramError { return e.message }
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError { return posix.localizedDescription }
        return ns.localizedDescription
    }

    /// The Graphviz library version in use.
    public static var graphvizVersion: String { Graphviz.version }
}
