/// Whether a graph node calls a registered module or a function (`F.relu`, `torch.cat`, `+`).
public enum NodeKind: String, Sendable, Codable {
    case module, function
}

/// One call in the forward pass, in execution order, with its shapes inferred once.
public struct GraphNode: Sendable {
    public var index: Int
    /// The torch module path (repeated when a module is called twice), or for a functional call
    /// the readable unique name `prefix.localName` (`layer1.0.add`).
    public var name: String
    public var kind: NodeKind
    public let layer: Layer
    /// `layer.spec`, boxed once: every view asks the kind its questions through this.
    public let spec: any LayerSpec
    /// Producer node indices; `ModelGraph.inputID` (-1) is the model input.
    public var inputs: [Int]
    public var inputShapes: [[Int]]
    public var outputShape: [Int]
    /// Index into `ModelGraph.modules` for module calls.
    public var module: Int?
    /// Enclosing container modules, outermost first (the root model excluded).
    public var scope: [Int]
    /// Runs only in training mode (auxiliary heads).
    public var trainOnly: Bool
    public var location: SourceLocation

    public init(index: Int, name: String, kind: NodeKind, layer: Layer, spec: (any LayerSpec)? = nil, inputs: [Int], inputShapes: [[Int]], outputShape: [Int],
                module: Int?, scope: [Int], trainOnly: Bool, location: SourceLocation) {
        self.index = index; self.name = name; self.kind = kind; self.layer = layer; self.spec = spec ?? layer.spec
        self.inputs = inputs; self.inputShapes = inputShapes; self.outputShape = outputShape
        self.module = module; self.scope = scope; self.trainOnly = trainOnly; self.location = location
    }

    /// PyTorch's class name for a module call (`Conv2d`), the function's name for a functional call (`relu`).
    public var typeName: String { kind == .module ? layer.className : functionName }
    /// torch's name for the functional form.
    public var functionName: String { layer.functionName }

    /// The call as the kinds' static rules see it.
    public func call(training: Bool) -> LayerCall {
        LayerCall(inputs: inputShapes, output: outputShape, training: training, isModule: kind == .module)
    }
}

/// A registered module: the tree `print(model)` shows and whose paths are the state_dict keys.
public struct ModuleEntry: Sendable {
    public var index: Int
    /// Full path (`layer1.0.conv1`); "" for the root.
    public var path: String
    /// Name within its parent (`conv1`, `0`).
    public var name: String
    public var className: String
    /// The layer for leaf modules; nil for containers (Sequential, blocks, the root).
    public let layer: Layer?
    /// `layer?.spec`, boxed once.
    public let spec: (any LayerSpec)?
    public var parent: Int?
    public var children: [Int] = []
    /// Parameters the module owns itself rather than through a child (ConvNeXt's `layer_scale`),
    /// in registration order; torch's state_dict lists them before the children's.
    public var ownParameters: [TensorSpec] = []
    /// Where each of `ownParameters` is declared (its `Parameter(...)` line).
    public var ownParameterLocations: [SourceLocation] = []
    /// Elements of the leaf's parameters and buffers (its spec's; `ownParameters` not included),
    /// summed once by the builder: the analysis reads them for every module.
    public internal(set) var elements = ElementCounts()
    public struct ElementCounts: Sendable {
        public var parameters = 0
        public var buffers = 0
        /// Of `buffers`, those stored as int64 (`num_batches_tracked`).
        public var int64Buffers = 0
    }
    /// 0 for the root model.
    public var depth: Int
    public var location: SourceLocation

    /// `spec` is `layer?.spec` when the caller has it boxed already.
    public init(index: Int, path: String, name: String, className: String, layer: Layer?, spec: (any LayerSpec)? = nil, parent: Int?, depth: Int, location: SourceLocation) {
        self.index = index; self.path = path; self.name = name; self.className = className; self.layer = layer; self.spec = spec ?? layer?.spec
        self.parent = parent; self.depth = depth; self.location = location
    }

    public var isContainer: Bool { layer == nil }
    /// `path.name` as torch's state_dict spells it.
    public func key(_ local: String) -> String { path.isEmpty ? local : path + "." + local }
}

/// A model instantiated for one input shape and one set of arguments.
public struct ModelGraph: Sendable {
    public static let inputID = -1
    public var name: String
    public var className: String
    public var source: ZooFile
    /// The constructor arguments in effect (defaults with overrides applied), in declaration order.
    public var arguments: [(name: String, value: ZooValue)]
    public var inputShape: [Int]
    public var nodes: [GraphNode]
    /// Index 0 is the root model.
    public var modules: [ModuleEntry]
    /// The node whose output is the model's output.
    public var output: Int
    /// Outputs of training-only heads (GoogLeNet's aux1/aux2, Inception3's AuxLogits).
    public var auxOutputs: [Int]
    /// Why training mode cannot run at this input size (a training-only head does not fit), if so.
    /// Eval mode is unaffected; training-mode consumers must report this error.
    public var trainingProblem: ZooError? = nil

    public var root: ModuleEntry { modules[0] }

    /// The nodes executed in a mode: eval skips training-only nodes.
    public func nodes(training: Bool) -> [GraphNode] {
        training ? nodes : nodes.filter { !$0.trainOnly }
    }

    /// Modules in registration (repr/state_dict) order, depth first; the root first.
    public func modulesInOrder() -> [ModuleEntry] {
        var out: [ModuleEntry] = []
        func walk(_ i: Int) { out.append(modules[i]); modules[i].children.forEach(walk) }
        walk(0)
        return out
    }

    public struct StateEntry: Sendable, Hashable {
        public var key: String
        public var shape: [Int]
        public var isBuffer: Bool
        public var module: Int
        public var localName: String
    }

    /// torch's `state_dict()` entries in order: per module, parameters then buffers.
    public func stateDict() -> [StateEntry] {
        var out: [StateEntry] = []
        for m in modulesInOrder() {
            for p in m.ownParameters { out.append(StateEntry(key: m.key(p.name), shape: p.shape, isBuffer: false, module: m.index, localName: p.name)) }
            guard let spec = m.spec else { continue }
            for p in spec.parameters { out.append(StateEntry(key: m.key(p.name), shape: p.shape, isBuffer: false, module: m.index, localName: p.name)) }
            for b in spec.buffers { out.append(StateEntry(key: m.key(b.name), shape: b.shape, isBuffer: true, module: m.index, localName: b.name)) }
        }
        return out
    }

    public var parameterCount: Int { stateDict().filter { !$0.isBuffer }.reduce(0) { $0 + $1.shape.reduce(1, *) } }
    public var bufferCount: Int { stateDict().filter { $0.isBuffer }.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    public func argument(_ name: String) -> ZooValue? { arguments.first { $0.name == name }?.value }
}
