import ConvLensDiagram
import ConvLensGraph
import Foundation
import Testing

/// Formats from file names, and writing files: all or nothing.
struct DiagramFileTests {
    /// A fresh directory per test (tests run in parallel).
    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-diagram-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func formatComesFromTheExtensionUnlessGiven() throws {
        #expect(try Diagram.format(nil, for: "out/net.svg") == .svg)
        #expect(try Diagram.format(nil, for: "net.PNG") == .png)
        #expect(try Diagram.format(nil, for: "net.pdf") == .pdf)
        #expect(try Diagram.format(nil, for: "net.gv") == .dot)
        #expect(try Diagram.format("pdf", for: "net.svg") == .pdf)
        for (format, path, words) in [("jpeg", "net.svg", "unknown diagram format 'jpeg'"),
                                      (nil, "net.bmp", "unknown diagram format '.bmp'"),
                                      (nil, "net", "give the file an extension")] as [(String?, String, String)] {
            do {
                _ = try Diagram.format(format, for: path)
                Issue.record("\(path) accepted")
            } catch {
                #expect(error.description.contains(words))
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func writesEachFormatAndLeavesNoTemporaryFile() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let g = try Registry.graph("convnet")
        for f in DiagramFormat.allCases {
            let path = dir.appending(path: "convnet.\(f.rawValue)").path
            try Diagram.write(g, options: DiagramOptions(), format: f, to: path)
            let bytes = try #require(FileManager.default.contents(atPath: path))
            #expect(bytes.count > 100)
            // writing again replaces the file
            try Diagram.write(g, options: DiagramOptions(depth: 1), format: f, to: path)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["convnet.dot", "convnet.pdf", "convnet.png", "convnet.svg"])
    }

    @Test func unwritablePathsFailWithoutLeavingAFile() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let g = try Registry.graph("lenet5")
        let missing = dir.appending(path: "no/such/dir/net.svg").path
        do {
            try Diagram.write(g, options: DiagramOptions(), format: .svg, to: missing)
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.description.contains("does not exist"))
        }
        do {
            try Diagram.write(g, options: DiagramOptions(), format: .svg, to: dir.path)
            Issue.record("wrote over a directory")
        } catch {
            #expect(error.description.contains("is a directory"))
        }
        // A bad depth fails before anything is written.
        let path = dir.appending(path: "net.svg").path
        #expect(throws: DiagramError.self) { try Diagram.write(g, options: DiagramOptions(depth: 0), format: .svg, to: path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }
}
