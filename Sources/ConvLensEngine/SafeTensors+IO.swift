import ConvLensGraph
import Foundation

extension SafeTensors {
    /// Reads and validates a safetensors file.
    public static func read(_ path: String) throws(EngineError) -> SafeTensors {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineError("\(path): cannot read file")
        }
        return try parse([UInt8](data), file: path)
    }

    /// Validates and splits safetensors bytes. Every error names the file (and tensor).
    public static func parse(_ bytes: [UInt8], file: String) throws(EngineError) -> SafeTensors {
        guard bytes.count >= 8 else { throw EngineError("\(file): not a safetensors file (\(bytes.count) bytes, shorter than the 8-byte header length)") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(bytes.count - 8) else {
            throw EngineError("\(file): header length \(n) goes beyond the end of the file (\(bytes.count) bytes): truncated or not safetensors")
        }
        let headerEnd = 8 + Int(n)
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])), let header = json as? [String: Any] else {
            throw EngineError("\(file): the header is not a JSON object")
        }
        var st = SafeTensors(file: file)
        let dataCount = bytes.count - headerEnd
        var spans: [(begin: Int, end: Int, name: String)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw EngineError("\(file): __metadata__ is not a JSON object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw EngineError("\(file): __metadata__ value for '\(k)' is not a string") }
                    st.metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any] else { throw EngineError("\(file): tensor '\(name)': header entry is not a JSON object") }
            guard let ds = info["dtype"] as? String, let dtype = DType(rawValue: ds) else {
                throw EngineError("\(file): tensor '\(name)': unknown or missing dtype \(info["dtype"].map { "\($0)" } ?? "")")
            }
            guard let shapeAny = info["shape"] as? [Any], let shape = intArray(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
                throw EngineError("\(file): tensor '\(name)': shape is missing or not a list of non-negative integers")
            }
            guard let offAny = info["data_offsets"] as? [Any], let off = intArray(offAny), off.count == 2 else {
                throw EngineError("\(file): tensor '\(name)': data_offsets is missing or not [begin, end]")
            }
            guard off[0] >= 0, off[0] <= off[1], off[1] <= dataCount else {
                throw EngineError("\(file): tensor '\(name)': data_offsets [\(off[0]), \(off[1])] out of range (the data section has \(dataCount) bytes)")
            }
            var count = 1
            for d in shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o, p <= dataCount else { throw EngineError("\(file): tensor '\(name)': shape \(shape) is larger than the file") }
                count = p
            }
            guard count * dtype.size == off[1] - off[0] else {
                throw EngineError("\(file): tensor '\(name)': dtype \(ds) × shape \(shape) needs \(count * dtype.size) bytes but data_offsets span \(off[1] - off[0])")
            }
            spans.append((off[0], off[1], name))
            st.entries[name] = Entry(name: name, dtype: dtype, shape: shape,
                                     bytes: Array(bytes[(headerEnd + off[0])..<(headerEnd + off[1])]))
        }
        // The offsets must tile [0, dataCount) exactly: no overlap, no gap, nothing after.
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var at = 0
        for s in spans {
            if s.begin < at { throw EngineError("\(file): tensor '\(s.name)': data_offsets [\(s.begin), \(s.end)] overlap the previous tensor (which ends at \(at))") }
            if s.begin > at { throw EngineError("\(file): tensor '\(s.name)': gap in the data before offset \(s.begin) (previous tensor ends at \(at))") }
            at = s.end
        }
        guard at == dataCount else { throw EngineError("\(file): the tensors cover \(at) of the \(dataCount) data bytes: the offsets do not cover the data") }
        st.names = spans.map(\.name)
        return st
    }

    private static func intArray(_ a: [Any]) -> [Int]? {
        var out: [Int] = []
        for v in a {
            // JSON true/false also bridge to NSNumber: tell them apart by class.
            guard let n = v as? NSNumber, !String(describing: type(of: v)).contains("Boolean") else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9e15 else { return nil }
            out.append(Int(d))
        }
        return out
    }

    /// The file's bytes: tensors in `names` order, header padded with spaces to 8 bytes.
    public func serialized() -> [UInt8] {
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonQuoted($0)):\(jsonQuoted(metadata[$0]!))" }.joined(separator: ",")
            parts.append("\"__metadata__\":{\(m)}")
        }
        var offset = 0
        for name in names {
            let e = entries[name]!
            parts.append("\(jsonQuoted(name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        header += parts.joined(separator: ",") + "}"
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + h.count + offset)
        var n = UInt64(h.count)
        for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
        out += h
        for name in names { out += entries[name]!.bytes }
        return out
    }

    /// Writes atomically: a temporary file in the same directory, then rename.
    public func write(to path: String) throws(EngineError) {
        do { try AtomicFile.write(serialized(), to: path) } catch { throw EngineError(error.description) }
    }
}

