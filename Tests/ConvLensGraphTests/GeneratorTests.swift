import Foundation
import Testing
import TestSupport

/// Oracle: the generators themselves. Every committed zoo file of a torchvision family is exactly
/// what its generator under zoo/generate/ writes (so a hand edit of a generated file, or a generator
/// change not rerun, fails here); the others are the hand-written seven minus the regenerated two.
@Suite struct GeneratorTests {
    @Test func committedZooFilesAreTheGeneratorsOutput() throws {
        let fm = FileManager.default
        let generators = try fm.contentsOfDirectory(atPath: Paths.packageRoot.appending(path: "zoo/generate").path)
            .filter { $0.hasSuffix(".py") && $0 != "common.py" }.sorted()
        #expect(generators.count == 10)
        let out = fm.temporaryDirectory.appending(path: "convlens-zoo-\(UUID().uuidString)")
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: out) }
        for g in generators {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            p.arguments = [Paths.packageRoot.appending(path: "zoo/generate/\(g)").path]
            p.environment = ["CONVLENS_ZOO_OUT": out.path, "PATH": "/usr/bin:/bin"]
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(g) failed")
        }
        let written = try fm.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".zoo") }.sorted()
        #expect(written.count == 65)
        for f in written {
            let generated = try Data(contentsOf: out.appending(path: f))
            let committed = try Data(contentsOf: Paths.packageRoot.appending(path: "zoo/\(f)"))
            #expect(generated == committed, "zoo/\(f) differs from its generator's output: rerun the generator")
        }
        let handWritten = Set(Paths.registryModels.map { $0 + ".zoo" }).subtracting(written).sorted()
        #expect(handWritten == ["alexnet.zoo", "convnet.zoo", "googlenet.zoo", "inception_v3.zoo", "lenet5.zoo"])
    }
}
