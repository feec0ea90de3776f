/// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), as much of it as
/// ONNX's messages use: varints, 32- and 64-bit fixed fields, length-delimited fields (strings,
/// bytes, sub-messages, packed repeated numbers). No groups (wire types 3 and 4 are errors).
///
/// Every malformed input is a thrown `ONNXError` naming the file, the byte offset and what is
/// wrong; nothing traps (lengths are checked against the bytes left before any slice is taken).

/// A wire type: the low three bits of a field's tag.
public enum WireType: UInt8, Sendable {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
}

/// Reads one message's fields in order from a byte range of a file.
public struct ProtoReader {
    let bytes: [UInt8]
    public private(set) var offset: Int
    let end: Int
    /// The file being read, for error messages.
    public let file: String
    /// The message being read (`ModelProto.graph.node[3]`), for error messages.
    public let context: String
    /// Nesting depth of sub-messages (a hostile file cannot recurse without bound).
    let depth: Int
    static let maxDepth = 64

    public init(_ bytes: [UInt8], file: String, context: String) {
        self.init(bytes, range: 0..<bytes.count, file: file, context: context, depth: 0)
    }

    init(_ bytes: [UInt8], range: Range<Int>, file: String, context: String, depth: Int) {
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
        self.file = file
        self.context = context
        self.depth = depth
    }

    public var atEnd: Bool { offset >= end }

    public func error(_ message: String) -> ONNXError {
        ONNXError(file: file, message: "\(context): \(message) (byte \(offset))")
    }

    public mutating func varint() throws(ONNXError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw error("truncated varint") }
            let b = bytes[offset]
            offset += 1
            if shift == 63 && b > 1 { throw error("varint longer than 64 bits") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw error("varint longer than 10 bytes") }
        }
    }

    /// The next field's number and wire type, or nil at the end of the message.
    public mutating func tag() throws(ONNXError) -> (field: Int, wire: WireType)? {
        guard !atEnd else { return nil }
        let t = try varint()
        guard let wire = WireType(rawValue: UInt8(t & 7)) else { throw error("invalid wire type \(t & 7)") }
        let field = t >> 3
        guard field >= 1, field <= 0x1FFF_FFFF else { throw error("invalid field number \(field)") }
        return (Int(field), wire)
    }

    public mutating func fixed32() throws(ONNXError) -> UInt32 {
        guard end - offset >= 4 else { throw error("truncated 32-bit field") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return v
    }

    public mutating func fixed64() throws(ONNXError) -> UInt64 {
        guard end - offset >= 8 else { throw error("truncated 64-bit field") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return v
    }

    /// The byte range of a length-delimited field's payload (checked against the message's end).
    public mutating func lengthDelimited() throws(ONNXError) -> Range<Int> {
        let start = offset
        let n = try varint()
        guard n <= UInt64(end - offset) else {
            offset = start
            throw error("length \(n) runs past the end of the message (\(end - offset - (offset - start)) bytes left)")
        }
        let r = offset..<(offset + Int(n))
        offset += Int(n)
        return r
    }

    public mutating func bytesField() throws(ONNXError) -> [UInt8] { Array(bytes[try lengthDelimited()]) }

    public mutating func string() throws(ONNXError) -> String {
        let r = try lengthDelimited()
        guard let s = String(validating: bytes[r], as: UTF8.self) else { throw error("string field is not UTF-8") }
        return s
    }

    /// A reader for the sub-message in the next length-delimited field.
    public mutating func message(_ name: String) throws(ONNXError) -> ProtoReader {
        let r = try lengthDelimited()
        guard depth < Self.maxDepth else { throw error("messages nested deeper than \(Self.maxDepth)") }
        return ProtoReader(bytes, range: r, file: file, context: name, depth: depth + 1)
    }

    /// Skips a field of an unknown number (protobuf's forward compatibility).
    public mutating func skip(_ wire: WireType) throws(ONNXError) {
        switch wire {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        case .startGroup, .endGroup: throw error("groups (wire type \(wire.rawValue)) are not used by ONNX")
        }
    }

    func expect(_ wire: WireType, is wanted: WireType, field: String) throws(ONNXError) {
        guard wire == wanted else { throw error("field \(field) has wire type \(wire.rawValue), expected \(wanted.rawValue)") }
    }

    // MARK: typed fields

    public mutating func int64(_ wire: WireType, field: String) throws(ONNXError) -> Int64 {
        try expect(wire, is: .varint, field: field)
        return Int64(bitPattern: try varint())
    }

    public mutating func int32(_ wire: WireType, field: String) throws(ONNXError) -> Int32 {
        try expect(wire, is: .varint, field: field)
        // int32 is sign-extended to 64 bits on the wire; keep the low 32 bits, as protobuf does.
        return Int32(truncatingIfNeeded: Int64(bitPattern: try varint()))
    }

    public mutating func float(_ wire: WireType, field: String) throws(ONNXError) -> Float {
        try expect(wire, is: .fixed32, field: field)
        return Float(bitPattern: try fixed32())
    }

    public mutating func stringField(_ wire: WireType, field: String) throws(ONNXError) -> String {
        try expect(wire, is: .lengthDelimited, field: field)
        return try string()
    }

    public mutating func bytesField(_ wire: WireType, field: String) throws(ONNXError) -> [UInt8] {
        try expect(wire, is: .lengthDelimited, field: field)
        return try bytesField()
    }

    public mutating func message(_ wire: WireType, field: String) throws(ONNXError) -> ProtoReader {
        try expect(wire, is: .lengthDelimited, field: field)
        return try message(field)
    }

    /// A repeated varint field, packed (one length-delimited run) or not (one value per tag).
    public mutating func appendInt64s(_ wire: WireType, to values: inout [Int64], field: String) throws(ONNXError) {
        switch wire {
        case .varint: values.append(Int64(bitPattern: try varint()))
        case .lengthDelimited:
            let r = try lengthDelimited()
            var sub = ProtoReader(bytes, range: r, file: file, context: context + "." + field, depth: depth)
            while !sub.atEnd { values.append(Int64(bitPattern: try sub.varint())) }
        default: throw error("field \(field) has wire type \(wire.rawValue), expected a varint or packed varints")
        }
    }

    public mutating func appendInt32s(_ wire: WireType, to values: inout [Int32], field: String) throws(ONNXError) {
        var wide: [Int64] = []
        try appendInt64s(wire, to: &wide, field: field)
        values.append(contentsOf: wide.map { Int32(truncatingIfNeeded: $0) })
    }

    public mutating func appendUInt64s(_ wire: WireType, to values: inout [UInt64], field: String) throws(ONNXError) {
        var wide: [Int64] = []
        try appendInt64s(wire, to: &wide, field: field)
        values.append(contentsOf: wide.map { UInt64(bitPattern: $0) })
    }

    /// A repeated float field, packed or not.
    public mutating func appendFloats(_ wire: WireType, to values: inout [Float], field: String) throws(ONNXError) {
        switch wire {
        case .fixed32: values.append(Float(bitPattern: try fixed32()))
        case .lengthDelimited:
            let r = try lengthDelimited()
            guard r.count % 4 == 0 else { throw error("packed float field \(field) has \(r.count) bytes, not a multiple of 4") }
            var sub = ProtoReader(bytes, range: r, file: file, context: context + "." + field, depth: depth)
            values.reserveCapacity(values.count + r.count / 4)
            while !sub.atEnd { values.append(Float(bitPattern: try sub.fixed32())) }
        default: throw error("field \(field) has wire type \(wire.rawValue), expected fixed32 or packed floats")
        }
    }

    /// A repeated double field, packed or not.
    public mutating func appendDoubles(_ wire: WireType, to values: inout [Double], field: String) throws(ONNXError) {
        switch wire {
        case .fixed64: values.append(Double(bitPattern: try fixed64()))
        case .lengthDelimited:
            let r = try lengthDelimited()
            guard r.count % 8 == 0 else { throw error("packed double field \(field) has \(r.count) bytes, not a multiple of 8") }
            var sub = ProtoReader(bytes, range: r, file: file, context: context + "." + field, depth: depth)
            while !sub.atEnd { values.append(Double(bitPattern: try sub.fixed64())) }
        default: throw error("field \(field) has wire type \(wire.rawValue), expected fixed64 or packed doubles")
        }
    }
}

/// Writes one message's fields. Repeated numbers are written packed (proto3's default).
public struct ProtoWriter {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    public mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func tag(_ field: Int, _ wire: WireType) { varint(UInt64(field) << 3 | UInt64(wire.rawValue)) }

    public mutating func int64(_ field: Int, _ v: Int64) {
        tag(field, .varint)
        varint(UInt64(bitPattern: v))
    }

    public mutating func float(_ field: Int, _ v: Float) {
        tag(field, .fixed32)
        appendFixed32(v.bitPattern)
    }

    mutating func appendFixed32(_ v: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    mutating func appendFixed64(_ v: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    public mutating func bytes(_ field: Int, _ b: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    public mutating func string(_ field: Int, _ s: String) { bytes(field, Array(s.utf8)) }

    public mutating func message(_ field: Int, _ m: ProtoWriter) { bytes(field, m.bytes) }

    public mutating func packedInt64s(_ field: Int, _ values: [Int64]) {
        guard !values.isEmpty else { return }
        var sub = ProtoWriter()
        for v in values { sub.varint(UInt64(bitPattern: v)) }
        bytes(field, sub.bytes)
    }

    public mutating func packedFloats(_ field: Int, _ values: [Float]) {
        guard !values.isEmpty else { return }
        var sub = ProtoWriter()
        for v in values { sub.appendFixed32(v.bitPattern) }
        bytes(field, sub.bytes)
    }

    public mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        guard !values.isEmpty else { return }
        var sub = ProtoWriter()
        for v in values { sub.appendFixed64(v.bitPattern) }
        bytes(field, sub.bytes)
    }
}

/// A malformed or unsupported ONNX file: one line naming the file and what is wrong.
public struct ONNXError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): error: \(message)" }
}
