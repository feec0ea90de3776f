import Foundation
import PackagePlugin

/// Turns every `zoo/*.zoo` file of the package into a Swift string table compiled into
/// ConvLensGraph, so `convlens` carries its registry wherever the binary goes.
@main
struct EmbedZoo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let zooDir = context.package.directoryURL.appending(path: "zoo")
        let files = (try? FileManager.default.contentsOfDirectory(at: zooDir, includingPropertiesForKeys: nil)) ?? []
        let zooFiles = files.filter { $0.pathExtension == "zoo" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedZoo.swift")
        return [.buildCommand(
            displayName: "Embedding \(zooFiles.count) zoo files",
            executable: try context.tool(named: "ZooEmbedder").url,
            arguments: [output.path] + zooFiles.map(\.path),
            inputFiles: zooFiles,
            outputFiles: [output])]
    }
}
