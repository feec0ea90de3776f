import Foundation

/// The zoo: models embedded at build time from zoo/*.zoo, and user files given by path.
public enum Registry {
    /// Registry names in a stable, readable order (small to large, then by family).
    public static var names: [String] {
        let order = ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"]
        let all = EmbeddedZoo.files.map { String($0.name.dropLast(4)) }
        return order.filter(all.contains) + all.filter { !order.contains($0) }.sorted()
    }

    /// The text of a registry model's zoo file.
    public static func embeddedText(_ name: String) -> String? {
        EmbeddedZoo.files.first { $0.name == name + ".zoo" }?.text
    }

    /// Loads MODEL: a registry name, or a path to a zoo file.
    public static func load(_ model: String) throws(ZooError) -> ZooFile {
        if let text = embeddedText(model) {
            return try ZooParser.parse(text, file: "zoo/\(model).zoo")
        }
        let looksLikePath = model.contains("/") || model.hasSuffix(".zoo")
        guard looksLikePath || FileManager.default.fileExists(atPath: model) else {
            throw ZooError(.io, "unknown model '\(model)': not in the registry (\(names.joined(separator: ", "))) and not a file")
        }
        guard let data = FileManager.default.contents(atPath: model) else {
            throw ZooError(.io, "cannot read zoo file '\(model)'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ZooError(.io, "zoo file '\(model)' is not UTF-8 text")
        }
        return try ZooParser.parse(text, file: model)
    }

    /// Loads and instantiates a model in one step.
    public static func graph(_ model: String, arguments: [String] = [], input: [Int]? = nil) throws(ZooError) -> ModelGraph {
        let file = try load(model)
        var overrides: [(String, ZooValue)] = []
        for a in arguments { overrides.append(try GraphBuilder.parseArgument(a)) }
        return try GraphBuilder.build(file, overrides: overrides, input: input)
    }

    /// Parses `NxCxHxW` (or `CxHxW`, batch 1).
    public static func parseShape(_ text: String) throws(ZooError) -> [Int] {
        let parts = text.lowercased().split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (parts.count == 4 || parts.count == 3), parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ZooError(.badArgument, "--input expects N×C×H×W like 1x3x224x224, got '\(text)'")
        }
        let dims = parts.map { $0! }
        return dims.count == 3 ? [1] + dims : dims
    }
}
