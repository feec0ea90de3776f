import Foundation

/// A failure reading a dataset, naming the file at fault.
public struct DataError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
    public init(_ file: String, _ message: String) { self.file = file; self.message = message }
}

/// One IDX file (LeCun's MNIST format): magic 0x00000800 | type << 8 | rank, big-endian dims, data.
public struct IDXArray: Sendable {
    public var dims: [Int]
    public var bytes: [UInt8]

    /// Reads an unsigned-byte IDX file, gzip-compressed or not (decided by the gzip magic bytes).
    public static func read(_ path: String, rank expected: Int) throws -> IDXArray {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(path, FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "file not found")
        }
        var raw = [UInt8](data)
        if raw.count >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
            do { raw = try Gzip.inflate(raw) } catch { throw DataError(path, "\(error)") }
        }
        guard raw.count >= 4 else { throw DataError(path, "truncated: \(raw.count) bytes, no IDX header") }
        guard raw[0] == 0, raw[1] == 0 else {
            throw DataError(path, String(format: "wrong magic number 0x%02X%02X%02X%02X (an IDX file starts 0x0000)", raw[0], raw[1], raw[2], raw[3]))
        }
        guard raw[2] == 0x08 else { throw DataError(path, String(format: "element type 0x%02X is not unsigned byte (0x08)", raw[2])) }
        let rank = Int(raw[3])
        guard rank == expected else { throw DataError(path, "has \(rank) dimensions, expected \(expected)") }
        let headerSize = 4 + 4 * rank
        guard raw.count >= headerSize else { throw DataError(path, "truncated header") }
        var dims: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            dims.append(Int(raw[o]) << 24 | Int(raw[o + 1]) << 16 | Int(raw[o + 2]) << 8 | Int(raw[o + 3]))
        }
        // Each dimension is a 32-bit count: three of them can pass Int.max.
        var count = 1
        for d in dims {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw DataError(path, "header dimensions \(dims) describe more bytes than can be counted") }
            count = p
        }
        guard raw.count - headerSize == count else {
            throw DataError(path, raw.count - headerSize < count
                ? "truncated: header promises \(count) bytes of data for \(dims), file has \(raw.count - headerSize)"
                : "has \(raw.count - headerSize - count) bytes after the data the header describes")
        }
        return IDXArray(dims: dims, bytes: Array(raw[headerSize...]))
    }
}

/// An MNIST-format split: `count` grey images of `rows`×`cols` bytes and their labels.
public struct IDXSplit: Sendable {
    public var images: [UInt8]
    public var labels: [UInt8]
    public var count: Int
    public var rows: Int
    public var cols: Int
    public var numClasses: Int { Int(labels.max() ?? 0) + 1 }
}

/// An MNIST-format folder: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-… (optionally .gz).
public struct IDXDataset: Sendable {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public var directory: String
    public var train: IDXSplit
    public var test: IDXSplit
    public var numClasses: Int { max(train.numClasses, test.numClasses) }

    public init(directory: String = IDXDataset.defaultDirectory) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw DataError(directory, "no such data folder" + (directory == Self.defaultDirectory
                ? " (install Debian's dataset-fashion-mnist: bash .ci/setup)" : ""))
        }
        self.directory = directory
        train = try Self.split(directory, "train")
        test = try Self.split(directory, "t10k")
    }

    static func find(_ dir: String, _ stem: String) throws -> String {
        for name in [stem, stem + ".gz"] {
            let p = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        // Some mirrors spell the separator as a dot: train-images.idx3-ubyte
        let dotted = stem.replacingOccurrences(of: "-idx", with: ".idx")
        for name in [dotted, dotted + ".gz"] {
            let p = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: p) { return p }
        }
        throw DataError((dir as NSString).appendingPathComponent(stem + "[.gz]"), "file not found")
    }

    static func split(_ dir: String, _ prefix: String) throws -> IDXSplit {
        let imagesPath = try find(dir, "\(prefix)-images-idx3-ubyte")
        let labelsPath = try find(dir, "\(prefix)-labels-idx1-ubyte")
        let images = try IDXArray.read(imagesPath, rank: 3)
        let labels = try IDXArray.read(labelsPath, rank: 1)
        guard images.dims[0] == labels.dims[0] else {
            throw DataError(labelsPath, "holds \(labels.dims[0]) labels but \(imagesPath) holds \(images.dims[0]) images")
        }
        guard images.dims[0] > 0, images.dims[1] > 0, images.dims[2] > 0 else { throw DataError(imagesPath, "holds no images") }
        return IDXSplit(images: images.bytes, labels: labels.bytes, count: images.dims[0], rows: images.dims[1], cols: images.dims[2])
    }
}
