import Foundation
import Testing
import ConvLensGraph
@testable import ConvLensTrain
import TestSupport

@Suite struct IDXTests {
    @Test(arguments: [false, true])
    func readsPlainAndGzipFolders(gzip: Bool) throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try IDXFixture.writeBars(to: dir, train: 50, test: 20, gzip: gzip)
        let ds = try IDXDataset(directory: dir.path)
        #expect(ds.train.count == 50 && ds.test.count == 20)
        #expect(ds.train.rows == 28 && ds.train.cols == 28)
        #expect(ds.train.images.count == 50 * 784)
        #expect(ds.numClasses == 4)
    }

    func error(_ setup: (URL) throws -> Void) throws -> String {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try IDXFixture.writeBars(to: dir, train: 10, test: 5)
        try setup(dir)
        do { _ = try IDXDataset(directory: dir.path); return "" } catch { return "\(error)" }
    }

    @Test func missingFile() throws {
        let e = try error { try FileManager.default.removeItem(at: $0.appending(path: "t10k-labels-idx1-ubyte")) }
        #expect(e.contains("t10k-labels-idx1-ubyte[.gz]: file not found"))
        let none = (try? IDXDataset(directory: "/nonexistent/dir")) == nil
        #expect(none)
    }

    @Test func truncatedFile() throws {
        let e = try error { dir in
            let u = dir.appending(path: "train-images-idx3-ubyte")
            let d = try Data(contentsOf: u)
            try d.prefix(d.count - 100).write(to: u)
        }
        #expect(e.contains("train-images-idx3-ubyte: truncated: header promises 7840 bytes"))
    }

    @Test func wrongMagic() throws {
        let e = try error { dir in
            let u = dir.appending(path: "train-labels-idx1-ubyte")
            var d = [UInt8](try Data(contentsOf: u)); d[0] = 0x42
            try Data(d).write(to: u)
        }
        #expect(e.contains("train-labels-idx1-ubyte: wrong magic number 0x42000801"))
    }

    @Test func countsDiffer() throws {
        let e = try error { dir in
            try Data(IDXFixture.labels([1, 2, 3])).write(to: dir.appending(path: "t10k-labels-idx1-ubyte"))
        }
        #expect(e.contains("t10k-labels-idx1-ubyte: holds 3 labels but"))
        #expect(e.contains("holds 5 images"))
    }

    @Test func corruptGzip() throws {
        let e = try error { dir in
            // gzip replaces the plain file with t10k-labels-idx1-ubyte.gz
            try IDXFixture.write(IDXFixture.labels([0, 1, 2, 3, 0]), to: dir.appending(path: "t10k-labels-idx1-ubyte"), gzip: true)
        }
        #expect(e == "")   // a valid .gz is found and read
        let e2 = try error { dir in
            try FileManager.default.removeItem(at: dir.appending(path: "t10k-labels-idx1-ubyte"))
            try Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef]).write(to: dir.appending(path: "t10k-labels-idx1-ubyte.gz"))
        }
        #expect(e2.contains("t10k-labels-idx1-ubyte.gz: "))
        #expect(e2.contains("compressed data"))
    }

    /// Oracle: /bin/gzip. `gzip -c a >> f; gzip -c b >> f` is one valid file of two members (gzip -d
    /// and gzip -t accept it); ConvLens read only the first and then called the file truncated.
    @Test func multiMemberGzip() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = (0..<70_000).map { UInt8($0 % 251) }, second = (0..<30_000).map { UInt8(($0 * 7) % 253) }
        var joined = Data()
        for (i, part) in [first, second].enumerated() {
            let f = dir.appending(path: "part\(i)")
            try IDXFixture.write(part, to: f, gzip: true)
            joined.append(try Data(contentsOf: f.appendingPathExtension("gz")))
        }
        #expect(try Gzip.inflate([UInt8](joined)) == first + second)
        #expect(try Gzip.inflate([UInt8](joined) + [0, 0, 0, 0]) == first + second)      // zero padding
        #expect(throws: Gzip.Failure.self) { _ = try Gzip.inflate([UInt8](joined) + [1, 2, 3]) }   // garbage after the members
    }

    @Test func inputAdapterRules() throws {
        let lenet = try Registry.load("lenet5")
        let a = try InputAdapter.choose(for: lenet, rows: 28, cols: 28, numClasses: 10, imageSize: nil, arguments: [])
        #expect(a.mode == .pad(2, 2) && a.height == 32 && a.channels == 1)
        let resnet = try Registry.load("resnet18")
        let r = try InputAdapter.choose(for: resnet, rows: 28, cols: 28, numClasses: 10, imageSize: nil, arguments: [])
        #expect(r.mode == .asIs && r.channels == 3 && r.height == 28)
        let alex = try Registry.load("alexnet")
        let x = try InputAdapter.choose(for: alex, rows: 28, cols: 28, numClasses: 10, imageSize: nil, arguments: [])
        #expect(x.mode == .resize && x.height == 63)
        let inc = try Registry.load("inception_v3")
        let i = try InputAdapter.choose(for: inc, rows: 28, cols: 28, numClasses: 10, imageSize: nil, arguments: [])
        #expect(i.mode == .resize && i.height >= 75)   // eval needs 75; training's AuxLogits needs more
        let forced = try InputAdapter.choose(for: resnet, rows: 28, cols: 28, numClasses: 10, imageSize: 64, arguments: [])
        #expect(forced.height == 64 && forced.mode == .resize)

        // pad puts the image in the centre and scales to [0, 1]; grey is replicated to 3 channels
        let img = [UInt8](repeating: 255, count: 28 * 28)
        var out = [Float](repeating: -1, count: 32 * 32)
        img.withUnsafeBufferPointer { a.fill($0, into: &out) }
        #expect(out[0] == 0 && out[2 * 32 + 2] == 1 && out[31 * 32 + 31] == 0)
        var out3 = [Float](repeating: -1, count: 3 * 28 * 28)
        img.withUnsafeBufferPointer { r.fill($0, into: &out3) }
        #expect(out3.allSatisfy { $0 == 1 })
    }
}

@Suite struct IDXOverflowTests {
    /// Three 32-bit dimensions of 0xFFFFFFFF multiply past Int.max: a clear error, not a trap.
    @Test func headerDimensionsPastIntMax() throws {
        let dir = try IDXFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appending(path: "x-idx3-ubyte")
        try Data([0, 0, 8, 3] + [UInt8](repeating: 0xff, count: 12) + [1, 2, 3]).write(to: f)
        do {
            _ = try IDXArray.read(f.path, rank: 3)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("header dimensions [4294967295, 4294967295, 4294967295] describe more bytes than can be counted"), "\(error)")
        }
    }
}
