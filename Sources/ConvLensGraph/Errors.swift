/// A place in a zoo file, 1-based.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file; self.line = line; self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// Everything that can be wrong with a zoo file or with the shapes flowing through it.
/// `description` is the one-line message users see: `file:line:column: error: [path: ]message`.
public struct ZooError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case syntax, unknownLayer, unknownArgument, badArgument, undefinedBlock
        case unknownInput, channelMismatch, shape, inputTooSmall, unknownParameter, io
        /// An `init` line that is malformed or does not fit the model, or a parameter no rule covers.
        case initRule
    }
    public var kind: Kind
    public var location: SourceLocation?
    /// The torch module path (or functional node name) at fault, when there is one.
    public var modulePath: String?
    public var message: String

    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil, module: String? = nil) {
        self.kind = kind; self.location = location; self.modulePath = module; self.message = message
    }

    public var description: String {
        var s = ""
        if let location { s += "\(location): " }
        s += "error: "
        if let modulePath, !modulePath.isEmpty { s += "\(modulePath): " }
        return s + message
    }
}
