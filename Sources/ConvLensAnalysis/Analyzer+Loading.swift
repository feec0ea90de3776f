import ConvLensGraph

extension Analyzer {
    /// `Registry.graph`, but when the input is too small for the network the error also names
    /// the smallest square input that works (found by building the graph at each size).
    public static func graph(_ model: String, arguments: [String] = [], input: [Int]? = nil) throws(ZooError) -> ModelGraph {
        let file = try Registry.load(model, input: input)
        var overrides: [(String, ZooValue)] = []
        for a in arguments { overrides.append(try GraphBuilder.parseArgument(a)) }
        do {
            return try GraphBuilder.build(file, overrides: overrides, input: input)
        } catch where error.kind == .inputTooSmall {
            let shape = input ?? file.input
            guard shape.count == 4, let side = smallestSquareSide(file, overrides: overrides, batch: shape[0], channels: shape[1]) else {
                throw ZooError(error.kind, error.message + "; no square input up to \(searchLimit)×\(searchLimit) works",
                               at: error.location, module: error.modulePath)
            }
            let s = "\(shape[0])x\(shape[1])x\(side)x\(side)"
            throw ZooError(error.kind, error.message + "; the smallest input that works is \(side)×\(side) (--input \(s))",
                           at: error.location, module: error.modulePath)
        }
    }

    static let searchLimit = 4096

    /// The smallest H = W for which the graph builds. A linear scan, because fitting is not
    /// monotonic in the size (LeNet-5's Linear(400) accepts 32–35 but not 36).
    public static func smallestSquareSide(_ file: ZooFile, overrides: [(String, ZooValue)], batch: Int, channels: Int) -> Int? {
        for s in 1...searchLimit {
            if (try? GraphBuilder.build(file, overrides: overrides, input: [batch, channels, s, s])) != nil { return s }
        }
        return nil
    }
}
