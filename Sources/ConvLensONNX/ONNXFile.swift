import Foundation

/// A tensor's values, decoded from a TensorProto (inline, raw_data or an external data file).
public struct ONNXTensorData: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case float([Float])
        case int64([Int64])
        case double([Double])
        case bool([Bool])
    }
    public var dims: [Int]
    public var values: Values
    public init(dims: [Int], values: Values) { self.dims = dims; self.values = values }

    public var count: Int { dims.reduce(1, *) }

    public var floats: [Float] {
        switch values {
        case .float(let v): v
        case .int64(let v): v.map { Float($0) }
        case .double(let v): v.map { Float($0) }
        case .bool(let v): v.map { $0 ? 1 : 0 }
        }
    }

    public var int64s: [Int64] {
        switch values {
        case .float(let v): v.map { $0.isFinite && abs($0) < 9e18 ? Int64($0) : 0 }
        case .int64(let v): v
        case .double(let v): v.map { $0.isFinite && abs($0) < 9e18 ? Int64($0) : 0 }
        case .bool(let v): v.map { $0 ? 1 : 0 }
        }
    }
}

public enum ONNXFile {
    /// Reads and decodes a `.onnx` file.
    public static func read(_ path: String) throws(ONNXError) -> ModelProto {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ONNXError(file: path, message: "cannot read the file")
        }
        return try ModelProto(bytes: [UInt8](data), file: path)
    }

    /// Writes a model atomically (a temporary file beside it, then a rename).
    public static func write(_ model: ModelProto, to path: String) throws(ONNXError) {
        let tmp = path + ".tmp-\(getpid())"
        do {
            try Data(model.serialized).write(to: URL(fileURLWithPath: tmp))
            if FileManager.default.fileExists(atPath: path) { _ = try FileManager.default.replaceItemAt(URL(fileURLWithPath: path), withItemAt: URL(fileURLWithPath: tmp)) }
            else { try FileManager.default.moveItem(atPath: tmp, toPath: path) }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw ONNXError(file: path, message: "cannot write the file: \(error.localizedDescription)")
        }
    }

    /// The largest tensor ConvLens decodes (elements); a file claiming more is malformed here.
    static let maxElements = 1 << 31

    /// A tensor's values. `file` is the model's path: external data (`location`, `offset`,
    /// `length`) is read from beside it.
    public static func values(_ t: TensorProto, file: String) throws(ONNXError) -> ONNXTensorData {
        func fail(_ m: String) -> ONNXError { ONNXError(file: file, message: "tensor '\(t.name)': \(m)") }
        var count = 1
        var dims: [Int] = []
        for d in t.dims {
            guard d >= 0, d <= Int64(maxElements) else { throw fail("dimension \(d) is out of range") }
            let (p, o) = count.multipliedReportingOverflow(by: Int(d))
            guard !o, p <= maxElements else { throw fail("dims \(t.dims) hold more than \(maxElements) elements") }
            count = p
            dims.append(Int(d))
        }
        guard let type = ONNXDataType(rawValue: t.dataType) else { throw fail("unsupported data type \(t.dataType)") }
        var raw = t.rawData
        if t.dataLocation == 1 { raw = try external(t, file: file) }
        func width() throws(ONNXError) -> Int {
            switch type {
            case .float, .int32, .uint32: 4
            case .int64, .double, .uint64: 8
            case .bool, .uint8, .int8: 1
            case .float16, .bfloat16, .int16, .uint16: 2
            default: throw fail("unsupported data type \(type)")
            }
        }
        if let raw {
            let w = try width()
            guard raw.count == count * w else {
                throw fail("raw data holds \(raw.count) bytes, dims \(t.dims) of \(type) need \(count * w)")
            }
            return ONNXTensorData(dims: dims, values: try decodeRaw(raw, type: type, count: count, fail: fail))
        }
        func check(_ n: Int) throws(ONNXError) {
            guard n == count else { throw fail("holds \(n) values, dims \(t.dims) need \(count)") }
        }
        switch type {
        case .float:
            try check(t.floatData.count); return ONNXTensorData(dims: dims, values: .float(t.floatData))
        case .double:
            try check(t.doubleData.count); return ONNXTensorData(dims: dims, values: .double(t.doubleData))
        case .int64:
            try check(t.int64Data.count); return ONNXTensorData(dims: dims, values: .int64(t.int64Data))
        case .int32, .int16, .int8, .uint8, .uint16:
            try check(t.int32Data.count); return ONNXTensorData(dims: dims, values: .int64(t.int32Data.map(Int64.init)))
        case .bool:
            try check(t.int32Data.count); return ONNXTensorData(dims: dims, values: .bool(t.int32Data.map { $0 != 0 }))
        case .uint32, .uint64:
            try check(t.uint64Data.count); return ONNXTensorData(dims: dims, values: .int64(t.uint64Data.map { Int64(truncatingIfNeeded: $0) }))
        case .float16:
            try check(t.int32Data.count)
            return ONNXTensorData(dims: dims, values: .float(t.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }))
        default: throw fail("unsupported data type \(type)")
        }
    }

    static func decodeRaw(_ raw: [UInt8], type: ONNXDataType, count: Int, fail: (String) -> ONNXError) throws(ONNXError) -> ONNXTensorData.Values {
        func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
            raw.withUnsafeBytes { p in (0..<count).map { T(littleEndian: p.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) } }
        }
        switch type {
        case .float:
            // Little-endian float32 is the machine's layout: one copy (a VGG16 file is 138 M values).
            guard 1.littleEndian == 1 else { return .float(load(UInt32.self).map { Float(bitPattern: $0) }) }
            return .float([Float](unsafeUninitializedCapacity: count) { buffer, n in
                raw.withUnsafeBytes { src in UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[..<(count * 4)])) }
                n = count
            })
        case .double: return .double(load(UInt64.self).map { Double(bitPattern: $0) })
        case .int64: return .int64(load(Int64.self))
        case .int32: return .int64(load(Int32.self).map(Int64.init))
        case .uint32: return .int64(load(UInt32.self).map(Int64.init))
        case .uint64: return .int64(load(UInt64.self).map { Int64(truncatingIfNeeded: $0) })
        case .int16: return .int64(load(Int16.self).map(Int64.init))
        case .uint16: return .int64(load(UInt16.self).map(Int64.init))
        case .int8: return .int64(load(Int8.self).map(Int64.init))
        case .uint8: return .int64(load(UInt8.self).map(Int64.init))
        case .bool: return .bool(raw.map { $0 != 0 })
        case .float16: return .float(load(UInt16.self).map { Float(Float16(bitPattern: $0)) })
        case .bfloat16: return .float(load(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) })
        default: throw fail("unsupported data type \(type)")
        }
    }

    /// The bytes of an external-data tensor: `location` relative to the model's folder, `offset`
    /// and `length` in bytes (the whole file from offset when no length is given).
    static func external(_ t: TensorProto, file: String) throws(ONNXError) -> [UInt8] {
        func fail(_ m: String) -> ONNXError { ONNXError(file: file, message: "tensor '\(t.name)': external data: \(m)") }
        var location: String?
        var offset = 0
        var length: Int?
        for e in t.externalData {
            switch e.key {
            case "location": location = e.value
            case "offset":
                guard let v = Int(e.value), v >= 0 else { throw fail("offset '\(e.value)' is not a byte count") }
                offset = v
            case "length":
                guard let v = Int(e.value), v >= 0 else { throw fail("length '\(e.value)' is not a byte count") }
                length = v
            default: break
            }
        }
        guard let location, !location.isEmpty else { throw fail("no location") }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw fail("location '\(location)' leaves the model's folder")
        }
        let dir = (file as NSString).deletingLastPathComponent
        let path = dir.isEmpty ? location : dir + "/" + location
        guard let h = FileHandle(forReadingAtPath: path) else { throw fail("cannot read '\(path)'") }
        defer { try? h.close() }
        let size = (try? h.seekToEnd()).map { Int($0) } ?? 0
        let n = length ?? (size - offset)
        guard offset <= size, n >= 0, n <= size - offset else {
            throw fail("bytes \(offset)..<\(offset + (length ?? 0)) run past the end of '\(path)' (\(size) bytes)")
        }
        do {
            try h.seek(toOffset: UInt64(offset))
            let d = try h.read(upToCount: n) ?? Data()
            guard d.count == n else { throw fail("short read from '\(path)'") }
            return [UInt8](d)
        } catch let e as ONNXError { throw e } catch { throw fail("cannot read '\(path)': \(error.localizedDescription)") }
    }

    /// A float32 initializer tensor in raw_data form.
    public static func floatTensor(name: String, dims: [Int], values: [Float]) -> TensorProto {
        var t = TensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = ONNXDataType.float.rawValue
        var raw = [UInt8]()
        raw.reserveCapacity(values.count * 4)
        for v in values { let b = v.bitPattern.littleEndian; raw.append(contentsOf: [UInt8(b & 0xff), UInt8(b >> 8 & 0xff), UInt8(b >> 16 & 0xff), UInt8(b >> 24)]) }
        t.rawData = raw
        return t
    }

    public static func int64Tensor(name: String, dims: [Int], values: [Int64]) -> TensorProto {
        var t = TensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = ONNXDataType.int64.rawValue
        t.int64Data = values
        return t
    }
}
