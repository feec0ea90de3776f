import ArgumentParser
import ConvLensAnalysis
import ConvLensGraph
import Foundation

/// The root command; `Main` (Main.swift) parses and runs it.
struct ConvLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convlens",
        abstract: "Print, analyse, draw, run and train classic convolutional networks from one declarative description.",
        subcommands: [ListCommand.self, PrintCommand.self, DiagramCommand.self, DoctorCommand.self, RunCommand.self, VerifyCommand.self, ImportCommand.self, AnalyzeCommand.self, SummaryCommand.self, ExplainCommand.self, TrainCommand.self, EvalCommand.self, ExportCommand.self, CompareCommand.self, ReportCommand.self])
}

/// The options every command that takes a model shares.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A registry model (see `convlens list`), a path to a zoo file, or an ONNX file.")
    var model: String

    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a model argument, e.g. --arg num_classes=10 (repeatable).", valueName: "name=value"))
    var arguments: [String] = []

    @Option(name: .customLong("input"), help: ArgumentHelp("Input shape N×C×H×W, e.g. 1x3x224x224 (default: the zoo file's).", valueName: "NxCxHxW"))
    var input: String?

    /// The graph; an input too small for the network names the smallest one that works.
    func graph() throws(ZooError) -> ModelGraph {
        let shape: [Int]? = try input.map { s throws(ZooError) in try Registry.parseShape(s) }
        let g = try Analyzer.graph(model, arguments: arguments, input: shape)
        printImportNotes(g.source)
        return g
    }
}

/// Runs a command body, turning ConvLens errors into one line on stderr and exit code 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ZooError {
        FileHandle.standardError.write(Data(("convlens: " + e.description + "\n").utf8))
        throw ExitCode(1)
    } catch let e as ExitCode {
        throw e
    } catch let e as CleanExit {
        throw e
    } catch {
        FileHandle.standardError.write(Data(("convlens: error: " + oneLine(error) + "\n").utf8))
        throw ExitCode(1)
    }
}

/// What an ONNX import could not recover (folded batch norms, names made up), on stderr so that
/// stdout stays the command's output.
func printImportNotes(_ file: ZooFile) {
    for (key, value) in file.meta where key.hasPrefix("import_note") {
        if let v = value.stringValue { FileHandle.standardError.write(Data("convlens: note: \(v)\n".utf8)) }
    }
}

/// An error as one line: ConvLens's own errors say what is wrong; Foundation's (a folder that cannot
/// be created, a JSON decoding failure) are reduced to the file and the reason instead of their
/// `Error Domain=NSCocoaErrorDomain …` / `DecodingError…` dumps.
func oneLine(_ error: Error) -> String {
    let text: String
    if let e = error as? DecodingError {
        switch e {
        case .keyNotFound(let k, _): text = "invalid JSON: no '\(k.stringValue)'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            text = c.codingPath.isEmpty ? "invalid JSON" : "invalid JSON at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        @unknown default: text = "invalid JSON"
        }
    } else if error is CocoaError || type(of: error) is NSError.Type {
        let ns = error as NSError
        let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        var reason = ns.localizedDescription
        if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain { reason = String(cString: strerror(Int32(u.code))) }
        if reason.contains("NSCocoaErrorDomain") { reason = "the operation failed (Foundation error \(ns.code))" }
        text = (path.map { "\($0): " } ?? "") + reason
    } else {
        text = String(describing: error)
    }
    return text.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: "; ")
}
