/// Instantiating an already parsed zoo file with `--arg` texts.
public extension Registry {
    static func graph(from file: ZooFile, arguments: [String] = [], input: [Int]? = nil) throws(ZooError) -> ModelGraph {
        var overrides: [(String, ZooValue)] = []
        for a in arguments { overrides.append(try GraphBuilder.parseArgument(a)) }
        return try GraphBuilder.build(file, overrides: overrides, input: input)
    }
}
