import Foundation

/// The registration order ConvLens's export records (`ONNXImport.registrationKey`): per container
/// path, its children's names in the order the module registered them, with the zoo constructor
/// of a child it never calls. The tree then declares a child registered earlier than it is called
/// with `module NAME = …` at its place and calls it by name later, as a zoo file writes it.
extension ModuleTree {
    typealias Registered = [(name: String, uncalled: String?)]

    static func registration(_ model: ModelProto) -> [String: Registered] {
        guard let text = model.metadataProps.first(where: { $0.key == ONNXImport.registrationKey })?.value,
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [[String]]] else { return [:] }
        return object.mapValues { list in list.compactMap { entry in entry.first.map { (name: $0, uncalled: entry.count > 1 ? entry[1] : nil) } } }
    }
}
