import Foundation

/// Small MNIST-format folders written by the tests themselves.
public enum IDXFixture {
    public static func header(magic: UInt8, dims: [Int]) -> [UInt8] {
        var b: [UInt8] = [0, 0, 0x08, magic]
        for d in dims { b += [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)] }
        return b
    }
    public static func images(_ pixels: [UInt8], count: Int, rows: Int, cols: Int) -> [UInt8] {
        header(magic: 3, dims: [count, rows, cols]) + pixels
    }
    public static func labels(_ labels: [UInt8]) -> [UInt8] { header(magic: 1, dims: [labels.count]) + labels }

    /// A fresh temporary folder.
    public static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appending(path: "convlens-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// A learnable toy problem: class k draws a bright bar at row band k (plus noise), 28×28.
    public static func writeBars(to dir: URL, train: Int, test: Int, classes: Int = 4, seed: UInt64 = 7, gzip: Bool = false) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var state = seed
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for (prefix, n) in [("train", train), ("t10k", test)] {
            var px: [UInt8] = [], lb: [UInt8] = []
            for _ in 0..<n {
                let k = Int(next() % UInt64(classes))
                lb.append(UInt8(k))
                for r in 0..<28 {
                    for _ in 0..<28 {
                        let band = r / (28 / classes) == k
                        px.append(UInt8(min(255, Int(next() % 60) + (band ? 170 : 0))))
                    }
                }
            }
            try write(images(px, count: n, rows: 28, cols: 28), to: dir.appending(path: "\(prefix)-images-idx3-ubyte"), gzip: gzip)
            try write(labels(lb), to: dir.appending(path: "\(prefix)-labels-idx1-ubyte"), gzip: gzip)
        }
    }

    public static func write(_ bytes: [UInt8], to url: URL, gzip: Bool) throws {
        try Data(bytes).write(to: url)
        if gzip {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-f", url.path]
            try p.run(); p.waitUntilExit()
        }
    }
}
