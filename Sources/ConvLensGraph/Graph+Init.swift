/// A parameter and what `--init default` draws it from.
public struct InitAssignment: Sendable {
    public var entry: ModelGraph.StateEntry
    public var draw: InitDraw
    /// The zoo line that decided; nil when the kind's torch default did.
    public var rule: InitRule?
}

extension ModelGraph {
    /// Every parameter (not buffer) in state_dict order with its distribution, from the source
    /// file's `init` lines: the last path rule matching the key, else the last kind rule for the
    /// module's class and the parameter, else the kind's torch default (`LayerSpec.torchInit`).
    /// Errors: a parameter nothing covers (a `Parameter(...)`, which has no torch default), a path
    /// rule that matches no parameter, a rule that cannot be evaluated for its tensor.
    public func initialisation() throws(ZooError) -> [InitAssignment] {
        let rules = source.inits
        var names: [String: ZooValue] = [:]
        for (k, v) in arguments { names[k] = v }
        var active: [Bool] = []
        for r in rules {
            guard let c = r.condition else { active.append(true); continue }
            guard let v = names[c.name] else {
                throw ZooError(.unknownParameter, "unknown name '\(c.name)' in condition", at: c.location, module: r.name)
            }
            guard let b = v.boolValue else { throw ZooError(.badArgument, "condition '\(c.name)' must be a bool, got \(v)", at: c.location, module: r.name) }
            active.append(b != c.negated)
        }
        var matched = [Bool](repeating: false, count: rules.count)
        var out: [InitAssignment] = []
        for e in stateDict() where !e.isBuffer {
            let m = modules[e.module]
            var chosen: Int? = nil
            for (i, r) in rules.enumerated() where active[i] {
                if case .keys(let pattern) = r.target, Glob.matches(pattern, e.key) { chosen = i; matched[i] = true }
            }
            if chosen == nil, let layer = m.layer {
                let cls = layer.className
                chosen = rules.indices.last { i in
                    guard active[i], case .kind(let k, let p) = rules[i].target else { return false }
                    return k == cls && p == e.localName
                }
            }
            let rule = chosen.map { rules[$0] }
            var function = rule?.function
            if function == nil || function?.name == "default" {
                guard let text = m.layer.flatMap({ l in type(of: l.spec).torchInit.first { $0.parameter == e.localName }?.rule }) else {
                    if let rule {
                        throw ZooError(.initRule, "\(e.key) has no torch default to fall back on (it is a Parameter the model creates itself)", at: rule.location, module: rule.name)
                    }
                    let at = m.ownParameters.firstIndex { $0.name == e.localName }.map { m.ownParameterLocations[$0] } ?? m.location
                    throw ZooError(.initRule, "no init rule gives this Parameter its values (torch has no default for a tensor a module creates itself): add a line such as init \"*.\(e.localName)\" = ones",
                                   at: at, module: e.key)
                }
                function = InitFunctions.builtIn(text)
            }
            var scope = names
            let ownFans = InitFunctions.fans(e.shape)
            let weightShape = m.spec?.parameters.first { $0.name == "weight" }?.shape
            if let fans = ownFans ?? weightShape.flatMap(InitFunctions.fans) {
                scope["fan_in"] = .int(fans.fanIn)
                scope["fan_out"] = .int(fans.fanOut)
            }
            let draw = try InitFunctions.draw(function!, shape: e.shape, names: scope, rule: rule?.name ?? "torch default of \(m.className).\(e.localName)")
            out.append(InitAssignment(entry: e, draw: draw, rule: rule))
        }
        for (i, r) in rules.enumerated() where active[i] && !matched[i] {
            if case .keys = r.target {
                throw ZooError(.initRule, "matches no parameter of \(name) (a quoted target is a glob over state_dict keys: \"layer*.bn2\".weight, \"*.layer_scale\")",
                               at: r.location, module: r.name)
            }
        }
        return out
    }
}
