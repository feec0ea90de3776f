import Foundation

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N,
/// N bytes of JSON `{"NAME": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`,
/// then the tensor bytes, offsets relative to the end of the header. Reading is strict, as the
/// reference implementation is: offsets must tile the data exactly (no gap, no overlap, no excess).
public struct SafeTensors: Sendable {
    public enum DType: String, Sendable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
        public var size: Int {
            switch self {
            case .f64, .i64: return 8
            case .f32, .i32: return 4
            case .f16, .bf16, .i16: return 2
            case .i8, .u8, .bool: return 1
            }
        }
    }

    public struct Entry: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]
        public var count: Int { shape.reduce(1, *) }
    }

    /// Where the tensors came from, for error messages.
    public var file: String
    /// Tensor names in file (data) order.
    public var names: [String]
    public var entries: [String: Entry]
    public var metadata: [String: String]

    public init(file: String = "<memory>") { self.file = file; names = []; entries = [:]; metadata = [:] }

    public subscript(name: String) -> Entry? { entries[name] }

    public mutating func set(_ name: String, _ t: Tensor) {
        var bytes = [UInt8](repeating: 0, count: t.count * 4)
        bytes.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: t.data, count: t.count * 4)) }
        set(Entry(name: name, dtype: .f32, shape: t.shape, bytes: bytes))
    }

    public mutating func set(_ name: String, int64 values: [Int64], shape: [Int]) {
        var bytes = [UInt8](repeating: 0, count: values.count * 8)
        values.withUnsafeBytes { src in bytes.withUnsafeMutableBytes { $0.copyMemory(from: src) } }
        set(Entry(name: name, dtype: .i64, shape: shape, bytes: bytes))
    }

    public mutating func set(_ e: Entry) {
        if entries[e.name] == nil { names.append(e.name) }
        entries[e.name] = e
    }

    /// A float tensor (F32, or F64/F16/BF16 converted), or a clear error naming file and tensor.
    public func tensor(_ name: String) throws(EngineError) -> Tensor {
        guard let e = entries[name] else { throw EngineError("\(file): no tensor '\(name)'") }
        if e.dtype == .f32 && 1.littleEndian == 1 && e.bytes.count == e.count * 4 && e.count > 0 {
            // Little-endian F32 on a little-endian host is already the tensor's bytes.
            let t = Tensor(uninitialized: e.shape)
            e.bytes.withUnsafeBytes { raw in UnsafeMutableRawPointer(t.data).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            return t
        }
        let t = Tensor(zeros: e.shape)
        e.bytes.withUnsafeBytes { raw in
            for i in 0..<e.count {
                switch e.dtype {
                case .f32: t[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian)
                case .f64: t[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian))
                case .bf16: t[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian) << 16)
                case .f16: t[i] = Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian))
                default: break
                }
            }
        }
        guard [.f32, .f64, .f16, .bf16].contains(e.dtype) else {
            throw EngineError("\(file): tensor '\(name)' has dtype \(e.dtype.rawValue), expected a float type (F32)")
        }
        return t
    }

    /// Integer values (I64, I32, I16, I8, U8), e.g. class targets.
    public func integers(_ name: String) throws(EngineError) -> [Int] {
        guard let e = entries[name] else { throw EngineError("\(file): no tensor '\(name)'") }
        guard [.i64, .i32, .i16, .i8, .u8].contains(e.dtype) else {
            throw EngineError("\(file): tensor '\(name)' has dtype \(e.dtype.rawValue), expected an integer type (I64)")
        }
        return e.bytes.withUnsafeBytes { raw -> [Int] in
            switch e.dtype {
            case .i64: return (0..<e.count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
            case .i32: return (0..<e.count).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
            case .i16: return (0..<e.count).map { Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self))) }
            case .i8: return (0..<e.count).map { Int(raw.load(fromByteOffset: $0, as: Int8.self)) }
            case .u8: return (0..<e.count).map { Int(raw[$0]) }
            default: return []
            }
        }
    }
}
