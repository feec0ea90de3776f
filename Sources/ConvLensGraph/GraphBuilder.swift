/// Instantiates a parsed zoo file: registers modules (pass 1, registration order) and runs
/// the forward description (pass 2, execution order), inferring every shape once.
public enum GraphBuilder {
    /// - Parameters:
    ///   - overrides: `--arg name=value` pairs, already parsed as zoo values.
    ///   - input: NCHW input shape; nil takes the file's `input` line.
    public static func build(_ file: ZooFile, overrides: [(String, ZooValue)] = [], input: [Int]? = nil) throws(ZooError) -> ModelGraph {
        var args = file.params.map { ($0.name, $0.defaultValue) }
        for (k, v) in overrides {
            guard let i = args.firstIndex(where: { $0.0 == k }) else {
                let known = file.params.map(\.name).joined(separator: ", ")
                throw ZooError(.unknownParameter, "model '\(file.name)' has no argument '\(k)' (it takes: \(known.isEmpty ? "none" : known))",
                               at: SourceLocation(file: file.path, line: 1, column: 1))
            }
            args[i].1 = try coerce(v, like: args[i].1, name: k, file: file)
        }
        let shape = input ?? file.input
        guard shape.count == 4, shape.allSatisfy({ $0 > 0 }) else {
            throw ZooError(.shape, "input shape must be four positive sizes N×C×H×W, got \(ShapeCheck.fmt(shape))", at: file.inputLocation)
        }
        if let p = GraphLimits.tooLarge(shape, "the input") { throw ZooError(.shape, p, at: file.inputLocation) }
        var b = Builder(file: file)
        b.inputShape = shape
        b.modules.append(ModuleEntry(index: 0, path: "", name: "", className: file.className, layer: nil, parent: nil, depth: 0,
                                     location: SourceLocation(file: file.path, line: 1, column: 1)))
        let ctx = Context(prefix: "", owner: 0, env: Environment(names: args.map(\.0), values: args.map(\.1)), scope: [], trainOnly: false)
        let registered = try b.register(file.body, ctx, depth: 1)
        var aux: [Int] = []
        let out = try b.run(file.body, ctx, registered: registered, inputs: [ModelGraph.inputID], auxOutputs: &aux)
        guard out != ModelGraph.inputID else {
            throw ZooError(.syntax, "model '\(file.name)' runs no layers", at: SourceLocation(file: file.path, line: 1, column: 1))
        }
        let graph = ModelGraph(name: file.name, className: file.className, source: file, arguments: args, inputShape: shape,
                               nodes: b.nodes, modules: b.modules, output: out, auxOutputs: aux, trainingProblem: b.trainingProblem)
        try GraphLimits.checkTotals(graph, parameterElements: b.parameterElements,
                                    parameterProblem: b.parameterProblem.map { b.modules[$0] })
        return graph
    }

    /// Checks an override against the parameter's declared (default) type.
    static func coerce(_ v: ZooValue, like d: ZooValue, name: String, file: ZooFile) throws(ZooError) -> ZooValue {
        switch (d, v) {
        case (.int, .int), (.bool, .bool), (.float, .float), (.float, .int), (.string, .string), (.tuple, .tuple): return v
        case (.null, _): return v
        default:
            throw ZooError(.badArgument, "argument '\(name)' of model '\(file.name)' must be \(d.typeName) like its default \(d), got \(v)",
                           at: file.params.first { $0.name == name }?.location)
        }
    }

    /// Parses `--arg` text (`10`, `0.3`, `true`, `(1, 1)`) with the zoo file's value syntax.
    public static func parseArgument(_ text: String) throws(ZooError) -> (String, ZooValue) {
        guard let eq = text.firstIndex(of: "=") else {
            throw ZooError(.badArgument, "--arg expects name=value, got '\(text)'")
        }
        let name = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let valueText = String(text[text.index(after: eq)...])
        let parsed = try ZooParser.parse("model m\ninput 1 1 1 1\nparam v = \(valueText)\nx = Identity", file: "--arg \(name)")
        guard let v = parsed.params.first?.defaultValue, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !name.isEmpty else {
            throw ZooError(.badArgument, "--arg expects name=value, got '\(text)'")
        }
        if case .ident(let s) = v { return (name, .string(s)) }
        return (name, v)
    }
}

/// Names visible in a body: model params, then block params (later bindings shadow earlier).
/// A dozen entries at most, so a backwards linear scan beats hashing and copies cheaply.
private struct Environment {
    var names: [String]
    var values: [ZooValue]
    subscript(_ name: String) -> ZooValue? {
        names.lastIndex(of: name).map { values[$0] }
    }
    mutating func bind(_ name: String, _ value: ZooValue) { names.append(name); values.append(value) }
}

private struct Context {
    var prefix: String        // module path prefix, "" or "layer1.0."
    var owner: Int            // module index that owns this body
    var env: Environment
    var scope: [Int]          // enclosing containers (root excluded); set when a body runs (callModule)
    var trainOnly: Bool
}

private struct Builder {
    let file: ZooFile
    var modules: [ModuleEntry] = []
    var nodes: [GraphNode] = []
    /// How to run each container module: its body and the context it runs in.
    /// Indexed by module index (nil for leaves and the root).
    var bodies: [(body: [Statement], ctx: Context, registered: [String: Int], isSequential: Bool)?] = [nil]

    /// The file's blocks with their signatures, built once rather than per instance.
    let blocks: [String: (BlockDef, Signature)]

    init(file: ZooFile) {
        self.file = file
        blocks = file.blocks.mapValues { ($0, Signature($0.params.map { ($0.name, $0.defaultValue) })) }
    }

    func path(_ ctx: Context, _ name: String) -> String { ctx.prefix + name }

    mutating func setBody(_ idx: Int, _ body: (body: [Statement], ctx: Context, registered: [String: Int], isSequential: Bool)) {
        if bodies.count <= idx { bodies.append(contentsOf: repeatElement(nil, count: idx + 1 - bodies.count)) }
        bodies[idx] = body
    }

    func holds(_ c: Condition?, _ ctx: Context) throws(ZooError) -> Bool {
        guard let c else { return true }
        guard let v = ctx.env[c.name] else { throw ZooError(.unknownParameter, "unknown name '\(c.name)' in condition", at: c.location) }
        guard let b = v.boolValue else { throw ZooError(.badArgument, "condition '\(c.name)' must be a bool, got \(v)", at: c.location) }
        return b != c.negated
    }

    func resolve(_ v: ZooValue, _ ctx: Context, at loc: SourceLocation, module: String) throws(ZooError) -> ZooValue {
        guard v.needsResolving else { return v }         // a literal (most arguments): no copy of its tuple
        switch v {
        case .ident(let n):
            guard let r = ctx.env[n] else { throw ZooError(.unknownParameter, "unknown name '\(n)'", at: loc, module: module) }
            return r
        case .tuple(let vs):
            var out: [ZooValue] = []
            for x in vs { out.append(try resolve(x, ctx, at: loc, module: module)) }
            return .tuple(out)
        case .expr(let op, let xs):
            var operands: [ZooValue] = []
            for x in xs { operands.append(try resolve(x, ctx, at: loc, module: module)) }
            switch ZooArithmetic.evaluate(op, operands) {
            case .success(let r): return r
            case .failure(let p): throw ZooError(p.kind, p.message, at: loc, module: module)
            }
        default: return v
        }
    }

    func bindArguments(_ st: Statement, _ sig: Signature, _ ctx: Context, module: String) throws(ZooError) -> BoundArguments {
        var pos: [ZooValue] = []
        var kw: [(String, ZooValue)] = []
        pos.reserveCapacity(st.arguments.count)
        for a in st.arguments {
            let v = try resolve(a.value, ctx, at: a.location, module: module)
            if let k = a.keyword { kw.append((k, v)) } else {
                guard kw.isEmpty else { throw ZooError(.syntax, "positional argument after keyword argument", at: a.location, module: module) }
                pos.append(v)
            }
        }
        do {
            return try sig.bind(positional: pos, keywords: kw, callee: st.callee ?? "")
        } catch {
            let loc = st.arguments.first { $0.keyword != nil && error.message.contains("'\($0.keyword!)'") }?.location ?? st.calleeLocation
            throw ZooError(error.kind, error.message, at: loc, module: module)
        }
    }

    /// A leaf module as constructed from its statement: the same for every instance whose
    /// arguments resolve to the same values.
    struct Constructed {
        let layer: Layer
        let spec: any LayerSpec
        let className: String
        let elements: ModuleEntry.ElementCounts
    }
    /// Statement id and the values of the names its arguments use → the layer they construct.
    /// Equal only when the values print alike: `-0.0` and `0.0` are equal Doubles but print apart.
    struct ConstructKey: Hashable {
        let statement: Int
        let values: [ZooValue]
        static func == (a: ConstructKey, b: ConstructKey) -> Bool {
            a.statement == b.statement && a.values.count == b.values.count && zip(a.values, b.values).allSatisfy { $0.isIdentical(to: $1) }
        }
        func hash(into h: inout Hasher) { h.combine(statement); h.combine(values) }   // identical values are equal: hashes agree
    }
    var constructed: [ConstructKey: Constructed] = [:]

    /// Binds a module statement's arguments and constructs its layer, checking each tensor's size;
    /// a statement met again with the same values of the names it uses (a block's fiftieth
    /// instance) takes the first construction.
    mutating func construct(_ st: Statement, _ entry: LayerFactory.Entry, _ ctx: Context, module p: String) throws(ZooError) -> Constructed {
        var key: ConstructKey?
        if st.id >= 0 {
            var values: [ZooValue] = []
            values.reserveCapacity(st.references.count)
            for n in st.references {
                guard let v = ctx.env[n] else { break }          // binding below reports the unknown name
                values.append(v)
            }
            if values.count == st.references.count {
                key = ConstructKey(statement: st.id, values: values)
                if let made = constructed[key!] { return made }
            }
        }
        let args = try bindArguments(st, entry.signature, ctx, module: p)
        let layer = try make(entry, args, st, module: p)
        let spec = layer.spec        // boxed once, kept by every module and node made from it
        var elements = ModuleEntry.ElementCounts()
        for (tensors, isBuffer) in [(spec.parameters, false), (spec.buffers, true)] {
            for t in tensors {
                if let problem = GraphLimits.tooLarge(t.shape, "\(layer.className) \(t.name)") { throw ZooError(.shape, problem, at: st.calleeLocation, module: p) }
                let n = t.count
                if !isBuffer { elements.parameters += n; continue }
                elements.buffers += n
                if t.name == "num_batches_tracked" { elements.int64Buffers += n }
            }
        }
        let made = Constructed(layer: layer, spec: spec, className: layer.className, elements: elements)
        if let key { constructed[key] = made }
        return made
    }

    // MARK: pass 1 — registration

    /// Registers the modules a body defines or declares, in text order; returns name → module index.
    mutating func register(_ body: [Statement], _ ctx: Context, depth: Int) throws(ZooError) -> [String: Int] {
        var registered: [String: Int] = [:]
        registered.reserveCapacity(body.count)
        for st in body where st.form != .call {
            guard try holds(st.condition, ctx) else { continue }
            guard let callee = st.callee else { continue }
            let callable = LayerFactory.callables[callee]
            if case .function(let fn) = callable {
                guard st.form == .define else {
                    throw ZooError(.syntax, "'\(callee)' is a function, not a module: it cannot be declared with 'module'", at: st.calleeLocation)
                }
                if callee == "Parameter" {
                    // A parameter of the enclosing module itself (ConvNeXt's layer_scale).
                    let p = path(ctx, st.name)
                    let args = try bindArguments(st, fn.signature, ctx, module: p)
                    guard case .parameter(let t) = try make(fn, args, st, module: p) else { continue }
                    if modules[ctx.owner].ownParameters.contains(where: { $0.name == st.name }) || registered[st.name] != nil {
                        throw ZooError(.syntax, "'\(st.name)' is defined twice in the same body", at: st.nameLocation, module: p)
                    }
                    if let problem = GraphLimits.tooLarge(t.shape, "parameter '\(st.name)'") { throw ZooError(.shape, problem, at: st.calleeLocation, module: p) }
                    countParameter(t.shape, module: ctx.owner)
                    modules[ctx.owner].ownParameters.append(TensorSpec(st.name, t.shape))
                    modules[ctx.owner].ownParameterLocations.append(st.nameLocation)
                }
                continue
            }
            let p = path(ctx, st.name)
            if registered[st.name] != nil {
                throw ZooError(.syntax, "module '\(st.name)' is defined twice in the same body", at: st.nameLocation, module: p)
            }
            let idx = modules.count
            let loc = st.nameLocation
            if callee == "Sequential" {
                modules.append(ModuleEntry(index: idx, path: p, name: st.name, className: st.sequentialClass ?? "Sequential", layer: nil, parent: ctx.owner, depth: depth, location: loc))
                modules[ctx.owner].children.append(idx)
                let inner = Context(prefix: p + ".", owner: idx, env: ctx.env, scope: [], trainOnly: false)
                for child in st.children ?? [] where child.form != .define || child.inputs != nil {
                    throw ZooError(.syntax, "Sequential children are modules written 'name = Type(...)' and take no '<-' inputs", at: child.nameLocation, module: p + "." + child.name)
                }
                let reg = try register(st.children ?? [], inner, depth: depth + 1)
                setBody(idx, (st.children ?? [], inner, reg, true))
            } else if case .module(let entry) = callable {
                let made = try construct(st, entry, ctx, module: p)
                countElements(made.elements.parameters + made.elements.buffers, module: idx)
                modules.append(ModuleEntry(index: idx, path: p, name: st.name, className: made.className, layer: made.layer, spec: made.spec, parent: ctx.owner, depth: depth, location: loc))
                modules[idx].elements = made.elements
                modules[ctx.owner].children.append(idx)
            } else if let (block, sig) = blocks[callee] {
                guard depth < 64 else { throw ZooError(.syntax, "blocks nest too deeply (is '\(callee)' recursive?)", at: st.calleeLocation, module: p) }
                let bound = try bindArguments(st, sig, ctx, module: p)
                modules.append(ModuleEntry(index: idx, path: p, name: st.name, className: block.className, layer: nil, parent: ctx.owner, depth: depth, location: loc))
                modules[ctx.owner].children.append(idx)
                var env = ctx.env
                for (k, v) in bound { env.bind(k, v) }
                let inner = Context(prefix: p + ".", owner: idx, env: env, scope: [], trainOnly: false)
                let reg = try register(block.body, inner, depth: depth + 1)
                setBody(idx, (block.body, inner, reg, false))
            } else if callee.first?.isUppercase == true && !callee.contains(".") {
                let known = (LayerFactory.modules.keys.sorted() + ["Sequential"] + file.blocks.keys.sorted()).joined(separator: ", ")
                throw ZooError(.undefinedBlock, "unknown layer type or block '\(callee)' (known: \(known))", at: st.calleeLocation, module: p)
            } else {
                let known = LayerFactory.functions.keys.sorted().joined(separator: ", ")
                throw ZooError(.unknownLayer, "unknown function '\(callee)' (known: \(known))", at: st.calleeLocation, module: p)
            }
            registered[st.name] = idx
        }
        return registered
    }

    // MARK: pass 2 — execution

    /// Runs a body; returns the node index of its output.
    mutating func run(_ body: [Statement], _ ctx: Context, registered: [String: Int], inputs bodyInputs: [Int],
                      auxOutputs: inout [Int]) throws(ZooError) -> Int {
        var symbols = [String: Int](minimumCapacity: body.count + 1)
        let noValue = Int.min        // the body has several inputs: a line must name its own
        var last = bodyInputs.count == 1 ? bodyInputs[0] : noValue
        symbols["$in"] = last
        for st in body where st.form != .declare {
            guard try holds(st.condition, ctx) else { continue }
            var inputs: [Int] = []
            let isParameter = st.form == .define && st.callee == "Parameter"
            if isParameter {
                if st.inputs != nil { throw ZooError(.syntax, "Parameter takes no inputs", at: st.nameLocation, module: path(ctx, st.name)) }
            } else if let named = st.inputs {
                for (n, loc) in named {
                    if n == "$in" { inputs += bodyInputs; continue }
                    guard let v = symbols[n] else {
                        let visible = symbols.keys.filter { $0 != "$in" }.sorted().joined(separator: ", ")
                        throw ZooError(.unknownInput, "input '\(n)' does not exist here (defined so far: $in\(visible.isEmpty ? "" : ", " + visible))",
                                       at: loc, module: path(ctx, st.name))
                    }
                    inputs.append(v)
                }
            } else {
                guard last != noValue else {
                    throw ZooError(.shape, "this block takes \(bodyInputs.count) inputs: its first line needs '<- $in' (all of them) or names the one it uses",
                                   at: st.nameLocation, module: path(ctx, st.name))
                }
                inputs = [last]
            }
            let out: Int
            if st.form == .define, let callee = st.callee, case .function(let fn) = LayerFactory.callables[callee] {
                let name = path(ctx, st.name)
                let args = try bindArguments(st, fn.signature, ctx, module: name)
                var layer = try make(fn, args, st, module: name)
                if case .parameter(var t) = layer { t.name = st.name; layer = .parameter(t) }
                out = try addNode(name: name, kind: .function, layer: layer, module: nil, inputs: inputs, scope: ctx.scope, trainOnly: ctx.trainOnly || st.trainOnly,
                                  location: st.calleeLocation ?? st.nameLocation)
            } else {
                guard let m = registered[st.name] else {
                    if symbols[st.name] != nil {
                        throw ZooError(.syntax, "'\(st.name)' is the output of a function call, not a module: only modules can be called again", at: st.nameLocation, module: path(ctx, st.name))
                    }
                    throw ZooError(.unknownLayer, "'\(st.name)' is not a module defined in this body (define it with '\(st.name) = Type(...)')", at: st.nameLocation, module: path(ctx, st.name))
                }
                if st.trainOnly && !ctx.trainOnly {
                    // A training-only head (aux logits) may not fit inputs the eval path accepts
                    // (Inception3's AuxLogits needs 17×17 features; eval runs from 75×75): the graph
                    // stays usable for eval and records why training mode cannot run.
                    let mark = nodes.count
                    var inner = ctx
                    inner.trainOnly = true
                    do {
                        out = try callModule(m, inputs: inputs, ctx: inner, at: st.nameLocation, auxOutputs: &auxOutputs)
                    } catch {
                        nodes.removeSubrange(mark...)
                        if trainingProblem == nil { trainingProblem = error }
                        continue
                    }
                } else {
                    out = try callModule(m, inputs: inputs, ctx: ctx, at: st.nameLocation, auxOutputs: &auxOutputs)
                }
            }
            symbols[st.name] = out
            if isParameter { continue }          // a parameter is a value to name, not a step of the forward chain
            if st.trainOnly && !ctx.trainOnly {
                if ctx.owner == 0 { auxOutputs.append(out) }
            } else {
                last = out
            }
        }
        return last
    }

    mutating func callModule(_ m: Int, inputs: [Int], ctx: Context, at loc: SourceLocation, auxOutputs: inout [Int]) throws(ZooError) -> Int {
        if let layer = modules[m].layer {
            return try addNode(name: modules[m].path, kind: .module, layer: layer, spec: modules[m].spec, module: m, inputs: inputs, scope: ctx.scope, trainOnly: ctx.trainOnly,
                               location: modules[m].location)
        }
        guard m < bodies.count, let (body, bctx, reg, isSeq) = bodies[m] else {
            throw ZooError(.syntax, "module '\(modules[m].path)' has no body", at: loc, module: modules[m].path)
        }
        guard inputs.count == 1 || !isSeq else {
            throw ZooError(.shape, "\(modules[m].className) takes one input, got \(inputs.count)", at: loc, module: modules[m].path)
        }
        var c = bctx
        c.trainOnly = ctx.trainOnly
        c.scope = ctx.scope
        c.scope.append(m)
        if isSeq {
            // A Sequential's children are exactly the modules its body registered (conditions were
            // evaluated then, in the same environment), in order.
            var cur = inputs[0]
            for child in modules[m].children {
                cur = try callModule(child, inputs: [cur], ctx: c, at: modules[child].location, auxOutputs: &auxOutputs)
            }
            return cur
        }
        var ignored: [Int] = []
        return try run(body, c, registered: reg, inputs: inputs, auxOutputs: &ignored)
    }

    func make(_ entry: LayerFactory.Entry, _ args: BoundArguments, _ st: Statement, module: String) throws(ZooError) -> Layer {
        do { return try entry.make(args) } catch { throw ZooError(error.kind, error.message, at: st.calleeLocation, module: module) }
    }

    mutating func addNode(name: String, kind: NodeKind, layer: Layer, spec boxed: (any LayerSpec)? = nil, module: Int?, inputs: [Int], scope: [Int],
                          trainOnly: Bool, location: SourceLocation) throws(ZooError) -> Int {
        let shapes = inputs.map { $0 == ModelGraph.inputID ? inputShape : nodes[$0].outputShape }
        let out: [Int]
        let spec = boxed ?? layer.spec        // a module's spec is boxed once, at registration
        do { out = try spec.outputShape(shapes) } catch { throw ZooError(error.kind, error.message, at: location, module: name) }
        if out.contains(where: { $0 <= 0 }) {
            throw ZooError(.inputTooSmall, "output would be empty: \(ShapeCheck.fmt(out))", at: location, module: name)
        }
        if let p = GraphLimits.tooLarge(out, "\(layer.className)'s output") { throw ZooError(.shape, p, at: location, module: name) }
        let idx = nodes.count
        let node = GraphNode(index: idx, name: name, kind: kind, layer: layer, spec: spec, inputs: inputs, inputShapes: shapes, outputShape: out,
                             module: module, scope: scope, trainOnly: trainOnly, location: location)
        nodes.append(node)
        return idx
    }

    var inputShape: [Int] = []
    var trainingProblem: ZooError?
    /// Elements of every parameter and buffer registered so far, and the first module at which
    /// that sum passed `Checked.maxTotalElements` (GraphLimits.checkTotals reports it).
    var parameterElements = 0
    var parameterProblem: Int?

    /// Adds one tensor (already checked ≤ 2^40 elements) to the model's total.
    mutating func countParameter(_ shape: [Int], module: Int) { countElements(shape.reduce(1, *), module: module) }

    /// Adds a module's tensors (a few, each ≤ 2^40 elements) to the model's total.
    mutating func countElements(_ n: Int, module: Int) {
        guard parameterProblem == nil else { return }       // stop adding (and never overflow) once past the limit
        parameterElements += n
        if parameterElements > Checked.maxTotalElements { parameterProblem = module }
    }
}
