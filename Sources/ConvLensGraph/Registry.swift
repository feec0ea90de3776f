import ConvLensONNX
import Foundation

/// The zoo: models embedded at build time from zoo/*.zoo, and user files given by path.
public enum Registry {
    /// The families in the order the field met them (the year of each family's paper); a family
    /// not listed sorts after these, by name.
    public static let familyOrder = ["LeNet", "Seed ConvNet", "AlexNet", "VGG", "GoogLeNet", "Inception V3", "ResNet", "SqueezeNet",
                                     "DenseNet", "ResNeXt", "Wide ResNet", "MobileNet V2", "ShuffleNet V2", "MNASNet", "MobileNet V3",
                                     "EfficientNet", "RegNet X", "RegNet Y", "EfficientNet V2", "ConvNeXt"]

    /// Registry names in a stable, readable order: by family (`familyOrder`), then by published
    /// parameter count within a family (small to large).
    public static var names: [String] { ordered.map(\.name) }

    /// Each registry model's `meta family` (empty when the file has none).
    public static func family(_ name: String) -> String { ordered.first { $0.name == name }?.family ?? "" }

    private static let ordered: [(name: String, family: String)] = {
        let entries = EmbeddedZoo.files.map { f -> (String, String, Int) in
            (String(f.name.dropLast(4)), metaLine(f.text, "family") ?? "", metaLine(f.text, "imagenet_params").flatMap { Int($0) } ?? 0)
        }
        func rank(_ family: String) -> Int { familyOrder.firstIndex(of: family) ?? familyOrder.count }
        return entries.sorted { a, b in
            (rank(a.1), a.1, a.2, a.0) < (rank(b.1), b.1, b.2, b.0)
        }.map { ($0.0, $0.1) }
    }()

    /// A `meta KEY = VALUE` line's value, unquoted, found without parsing the whole file.
    static func metaLine(_ text: String, _ key: String) -> String? {
        // Scans bytes: splitting the whole text into Characters for every file cost more than
        // parsing it (`convlens list` reads this for all 70 files).
        let prefix = Array("meta \(key)".utf8)
        for line in text.utf8.split(separator: UInt8(ascii: "\n")) where line.starts(with: prefix) {
            let line = Substring(line)
            guard let eq = line.firstIndex(of: "=") else { continue }
            guard line[line.index(line.startIndex, offsetBy: 5)..<eq].trimmingCharacters(in: .whitespaces) == key else { continue }
            var v = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let hash = v.range(of: " #") { v = String(v[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces) }
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }

    /// The text of a registry model's zoo file.
    public static func embeddedText(_ name: String) -> String? {
        EmbeddedZoo.files.first { $0.name == name + ".zoo" }?.text
    }

    /// Loads MODEL: a registry name, a path to a zoo file, or a path to an ONNX file (imported
    /// into zoo form, see `ONNXImport`; `input` fixes the dimensions an ONNX file leaves dynamic).
    /// This is where every command resolves MODEL.
    public static func load(_ model: String, input: [Int]? = nil) throws(ZooError) -> ZooFile {
        if let text = embeddedText(model) {
            return try ZooParser.parse(text, file: "zoo/\(model).zoo")
        }
        if isONNX(model) {
            let imported = try ZooParser.parse(try importONNX(model, input: input).zooText, file: model)
            return recognize(imported)?.file ?? imported
        }
        let looksLikePath = model.contains("/") || model.hasSuffix(".zoo")
        guard looksLikePath || FileManager.default.fileExists(atPath: model) else {
            throw ZooError(.io, "unknown model '\(model)': not in the registry (\(names.joined(separator: ", "))) and not a file")
        }
        guard let data = FileManager.default.contents(atPath: model) else {
            throw ZooError(.io, "cannot read zoo file '\(model)'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let (line, column, byte) = firstInvalidUTF8([UInt8](data))
            throw ZooError(.io, String(format: "not UTF-8 text: byte 0x%02X cannot start or continue a character", byte),
                           at: SourceLocation(file: model, line: line, column: column))
        }
        return try ZooParser.parse(text, file: model)
    }

    /// Loads and instantiates a model in one step.
    public static func graph(_ model: String, arguments: [String] = [], input: [Int]? = nil) throws(ZooError) -> ModelGraph {
        let file = try load(model, input: input)
        var overrides: [(String, ZooValue)] = []
        for a in arguments { overrides.append(try GraphBuilder.parseArgument(a)) }
        return try GraphBuilder.build(file, overrides: overrides, input: input)
    }

    /// Parses `NxCxHxW`: exactly four positive sizes separated by single `x`s. `--input` means
    /// this one thing in every command (a three-size shape is not guessed to be C×H×W).
    public static func parseShape(_ text: String) throws(ZooError) -> [Int] {
        let fields = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let parts = fields.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            var hint = ""
            if parts.count == 3, parts.allSatisfy({ ($0 ?? 0) > 0 }) { hint = " (three sizes; if that is C×H×W, give the batch too: 1x\(text))" }
            else if fields.contains(where: \.isEmpty) { hint = " (an empty size between two x's or at an end)" }
            throw ZooError(.badArgument, "--input expects four positive sizes N×C×H×W like 1x3x224x224, got '\(text)'\(hint)")
        }
        let shape = parts.map { $0! }
        if let p = GraphLimits.tooLarge(shape, "--input") { throw ZooError(.badArgument, p) }
        return shape
    }
}

/// Where UTF-8 decoding first fails: line and column (in characters, from 1) and the byte.
func firstInvalidUTF8(_ bytes: [UInt8]) -> (line: Int, column: Int, byte: UInt8) {
    var line = 1, column = 1, offset = 0
    var it = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        let before = offset
        // Count the bytes the decoder consumes through a counting iterator.
        switch decoder.decode(&it) {
        case .scalarValue(let s):
            offset += UTF8.width(s)
            if s == "\n" { line += 1; column = 1 } else { column += 1 }
        case .emptyInput:
            return (line, column, 0)
        case .error:
            return (line, column, bytes[min(before, bytes.count - 1)])
        }
    }
}

extension Registry {
    /// Whether MODEL names an ONNX file (by its extension).
    public static func isONNX(_ model: String) -> Bool { model.lowercased().hasSuffix(".onnx") }

    /// Imports an ONNX file; its errors become one-line ZooErrors naming the file, node and operator.
    public static func importONNX(_ path: String, input: [Int]? = nil) throws(ZooError) -> ImportedModel {
        do {
            return try ONNXImport.importFile(path, input: input)
        } catch {
            throw ZooError(.io, "\(error.file): \(error.message)")
        }
    }
}
