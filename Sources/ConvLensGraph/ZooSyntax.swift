/// The parsed, not yet instantiated, form of a zoo file. See zoo/README.md for the format.
public struct ZooFile: Sendable {
    public var path: String
    public var name: String = ""
    public var className: String = ""
    public var input: [Int] = []
    public var inputLocation: SourceLocation?
    public var params: [ParamDecl] = []
    /// `meta key = value`: provenance and published figures (source, paper, imagenet_top1, …).
    public var meta: [(key: String, value: ZooValue)] = []
    /// `train key = value`: the default training recipe.
    public var train: [(key: String, value: ZooValue)] = []
    public var body: [Statement] = []
    public var blocks: [String: BlockDef] = [:]

    public func metaValue(_ key: String) -> ZooValue? { meta.first { $0.key == key }?.value }
    public func trainValue(_ key: String) -> ZooValue? { train.first { $0.key == key }?.value }
}

public struct ParamDecl: Sendable {
    public var name: String
    public var defaultValue: ZooValue
    public var location: SourceLocation
}

public struct BlockDef: Sendable {
    public var name: String
    public var className: String
    public var params: [(name: String, defaultValue: ZooValue?)]
    public var body: [Statement]
    public var location: SourceLocation
}

public struct CallArgument: Sendable {
    public var keyword: String?
    public var value: ZooValue
    public var location: SourceLocation
}

public struct Condition: Sendable {
    public var name: String
    public var negated: Bool
    public var location: SourceLocation
}

/// One line of a model or block body.
public struct Statement: Sendable {
    public enum Form: Sendable {
        /// `name = Callee(args)`: create (register) a module or make a functional call, and run it.
        case define
        /// `module name = Callee(args)`: register a module here without running it (it runs where
        /// a later or earlier `name <- …` line calls it).
        case declare
        /// `name [<- inputs]`: call a module defined elsewhere in the same body (again).
        case call
    }
    public var form: Form
    public var name: String
    public var nameLocation: SourceLocation
    public var callee: String?
    public var calleeLocation: SourceLocation?
    public var arguments: [CallArgument] = []
    public var hasArgumentList = false
    public var inputs: [(name: String, location: SourceLocation)]?
    public var condition: Condition?
    public var trainOnly = false
    /// Children of an inline `Sequential { … }`.
    public var children: [Statement]?
    /// The class an inline Sequential prints (`Sequential class SimpleStemIN {`); nil: Sequential.
    public var sequentialClass: String?
}
