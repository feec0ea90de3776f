/// A Python-style parameter list: binds positional and keyword arguments, fills defaults,
/// and rejects unknown or missing ones.
public struct Signature: Sendable {
    public struct Param: Sendable {
        public var name: String
        public var defaultValue: ZooValue?   // nil: required
    }
    public var params: [Param]
    /// The parameter names, built once (every bound call shares this array).
    let names: [String]

    public init(_ params: [(String, ZooValue?)]) {
        self.params = params.map { Param(name: $0.0, defaultValue: $0.1) }
        self.names = params.map(\.0)
    }

    public func bind(positional: [ZooValue], keywords: [(String, ZooValue)], callee: String) throws(ShapeProblem) -> BoundArguments {
        if positional.count > params.count {
            throw ShapeProblem(.badArgument, "\(callee) takes at most \(params.count) positional arguments, got \(positional.count)")
        }
        // No hashing: a handful of parameters, so linear scans win. kwAt[j]: keyword j's parameter.
        var kwAt: [Int] = []
        if !keywords.isEmpty { kwAt.reserveCapacity(keywords.count) }
        for (j, (k, _)) in keywords.enumerated() {
            guard let i = names.firstIndex(of: k) else {
                let known = params.map(\.name).joined(separator: ", ")
                throw ShapeProblem(.unknownArgument, "\(callee) has no argument '\(k)' (it takes: \(known.isEmpty ? "none" : known))")
            }
            if i < positional.count || kwAt[..<j].contains(i) {
                throw ShapeProblem(.badArgument, "\(callee) got argument '\(k)' twice")
            }
            kwAt.append(i)
        }
        var values: [ZooValue] = []
        values.reserveCapacity(params.count)
        for i in 0..<params.count {
            if i < positional.count { values.append(positional[i]); continue }
            if let j = kwAt.firstIndex(of: i) { values.append(keywords[j].1); continue }
            guard let d = params[i].defaultValue else {
                throw ShapeProblem(.badArgument, "\(callee) is missing required argument '\(params[i].name)'")
            }
            values.append(d)
        }
        return BoundArguments(names: names, values: values)
    }
}

/// Arguments bound to a signature, in its order. A handful of names: a linear scan beats hashing.
public struct BoundArguments: Sendable, Hashable, Sequence {
    public private(set) var names: [String]
    public private(set) var values: [ZooValue]

    public subscript(_ name: String) -> ZooValue? {
        get { names.firstIndex(of: name).map { values[$0] } }
        set {
            if let i = names.firstIndex(of: name) {
                if let newValue { values[i] = newValue } else { names.remove(at: i); values.remove(at: i) }
            } else if let newValue { names.append(name); values.append(newValue) }
        }
    }

    public func makeIterator() -> Zip2Sequence<[String], [ZooValue]>.Iterator { zip(names, values).makeIterator() }
}

/// Typed reads of bound arguments, with messages that name the argument.
struct Args {
    let values: BoundArguments
    let callee: String
    init(_ values: BoundArguments, _ callee: String) { self.values = values; self.callee = callee }

    subscript(_ name: String) -> ZooValue { values[name] ?? .null }

    func int(_ name: String, min: Int? = nil) throws(ShapeProblem) -> Int {
        guard let v = self[name].intValue else { throw typeError(name, "an int") }
        if let min, v < min { throw ShapeProblem(.badArgument, "\(callee) argument '\(name)' must be ≥ \(min), got \(v)") }
        try bounded(name, [v])
        return v
    }
    /// Every integer a layer takes is a size along some axis: beyond `Checked.maxArgument` it
    /// describes a tensor no machine holds, and the shape arithmetic would overflow.
    func bounded(_ name: String, _ vs: [Int]) throws(ShapeProblem) {
        if let v = vs.first(where: { $0 > Checked.maxArgument || $0 < -Checked.maxArgument }) {
            throw ShapeProblem(.badArgument, "\(callee) argument '\(name)' is \(v), beyond the largest size ConvLens handles (\(Checked.maxArgument), 2^31 − 1)")
        }
    }
    func bool(_ name: String) throws(ShapeProblem) -> Bool {
        guard let v = self[name].boolValue else { throw typeError(name, "a bool (True or False)") }
        return v
    }
    func double(_ name: String) throws(ShapeProblem) -> Double {
        guard let v = self[name].doubleValue else { throw typeError(name, "a number") }
        guard v.isFinite else { throw ShapeProblem(.badArgument, "\(callee) argument '\(name)' must be a finite number, got \(v)") }
        return v
    }
    /// An int or a pair of ints, as torch's `_pair`.
    func pair(_ name: String, min: Int) throws(ShapeProblem) -> [Int] {
        let v = self[name]
        let out: [Int]
        switch v {
        case .int(let i): out = [i, i]
        case .tuple(let vs) where vs.count == 2 && vs.allSatisfy({ $0.intValue != nil }): out = vs.map { $0.intValue! }
        default: throw typeError(name, "an int or a pair of ints")
        }
        if out.contains(where: { $0 < min }) {
            throw ShapeProblem(.badArgument, "\(callee) argument '\(name)' must be ≥ \(min), got \(v)")
        }
        try bounded(name, out)
        return out
    }
    /// An int or a tuple of ints (`dims`, `normalized_shape`).
    func ints(_ name: String) throws(ShapeProblem) -> [Int] {
        let out: [Int]
        switch self[name] {
        case .int(let i): out = [i]
        case .tuple(let vs) where vs.allSatisfy({ $0.intValue != nil }): out = vs.map { $0.intValue! }
        default: throw typeError(name, "an int or a tuple of ints")
        }
        try bounded(name, out)
        return out
    }
    func typeError(_ name: String, _ expected: String) -> ShapeProblem {
        ShapeProblem(.badArgument, "\(callee) argument '\(name)' must be \(expected), got \(self[name]) (\(self[name].typeName))")
    }
}

/// Shape helpers shared by the layer kinds.
enum ShapeCheck {
    static func single(_ inputs: [[Int]], _ what: String) throws(ShapeProblem) -> [Int] {
        guard inputs.count == 1 else { throw ShapeProblem(.shape, "\(what) takes one input, got \(inputs.count)") }
        return inputs[0]
    }
    static func nchw(_ inputs: [[Int]], _ what: String) throws(ShapeProblem) -> [Int] {
        let s = try single(inputs, what)
        guard s.count == 4 else { throw ShapeProblem(.shape, "\(what) expects an NCHW input, got \(fmt(s))") }
        return s
    }
    /// The product of sizes, or an error when it cannot be represented.
    static func product(_ s: [Int], _ what: String) throws(ShapeProblem) -> Int {
        var p = 1
        for d in s {
            let (r, o) = p.multipliedReportingOverflow(by: d)
            guard !o else { throw ShapeProblem(.shape, "\(what): \(fmt(s)) has more elements than can be counted") }
            p = r
        }
        return p
    }
    static func fmt(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    /// Output length of a sliding window: ⌊(n + 2p − d(k−1) − 1)/s⌋ + 1, or with ceil_mode
    /// ⌈…⌉ + 1 where the last window must start inside the input or left padding
    /// (torch's pooling_output_shape: if (out−1)·s ≥ n + p, out −= 1).
    static func windowOutput(_ n: Int, k: Int, s: Int, p: Int, d: Int, ceil: Bool) -> Int {
        let span = n + 2 * p - d * (k - 1) - 1
        if span < 0 { return 0 }
        var out = (ceil ? (span + s - 1) / s : span / s) + 1
        if ceil && (out - 1) * s >= n + p { out -= 1 }
        return out
    }
}
