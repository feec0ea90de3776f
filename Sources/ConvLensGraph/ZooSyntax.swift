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
    /// `init TARGET = FUNCTION(…)`: how `--init default` fills parameters, in file order.
    public var inits: [InitRule] = []
    public var body: [Statement] = []
    public var blocks: [String: BlockDef] = [:]

    public func metaValue(_ key: String) -> ZooValue? { meta.first { $0.key == key }?.value }
    public func trainValue(_ key: String) -> ZooValue? { train.first { $0.key == key }?.value }

    /// What a training-mode loss adds per auxiliary head's loss: `train aux_loss_weight` (torchvision's
    /// recipes: 0.3 GoogLeNet, 0.4 Inception3), or `defaultAuxLossWeight` for a file without the line.
    public var auxLossWeight: Double { trainValue("aux_loss_weight")?.doubleValue ?? ZooFile.defaultAuxLossWeight }
    /// 0.3: the GoogLeNet paper's weight for its auxiliary classifiers (Szegedy et al. 2015, §5).
    public static let defaultAuxLossWeight = 0.3

    /// The `train` keys whose values the parser checks (the others are checked where they are used).
    static func checkTrainLine(_ key: String, _ v: ZooValue, at l: SourceLocation) throws(ZooError) {
        switch key {
        case "aux_loss_weight":
            guard let w = v.doubleValue, w >= 0, w.isFinite else {
                throw ZooError(.badArgument, "train aux_loss_weight must be a number ≥ 0, got \(v)", at: l)
            }
        case "init":
            throw ZooError(.syntax, "'train init' is gone: state the initialisation with init lines, e.g. init Conv2d.weight = normal(0, 0.01) (see zoo/README.md, Initialisation)", at: l)
        default: break
        }
    }
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
    /// The statement's number in its file, counted by the parser; -1 for one made elsewhere.
    /// With the values of `references` it keys the builder's memo of constructed layers, so a
    /// block instantiated fifty times binds and constructs each distinct layer once.
    public var id = -1
    /// The parameter names the arguments use (each once, in order of first use).
    public var references: [String] = []
}
