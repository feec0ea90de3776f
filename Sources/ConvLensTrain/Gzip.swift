import CZlib
import Foundation

/// The one place ConvLens calls zlib: inflating gzip (or zlib) streams such as MNIST's `.gz` files.
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Decompresses a whole gzip or zlib stream (the header is detected: windowBits 15 + 32).
    public static func inflate(_ data: [UInt8]) throws -> [UInt8] {
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Failure(description: "zlib could not start (\(status))") }
        defer { inflateEnd(&stream) }
        var out = [UInt8]()
        out.reserveCapacity(data.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        try data.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { buf in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = uInt(buf.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return buf.count - Int(stream.avail_out)
                }
                out.append(contentsOf: chunk[0..<produced])
                if status == Z_STREAM_END {
                    // A gzip file may hold several members one after another (what `cat a.gz b.gz`
                    // or `gzip -c >>` produces, and `gzip -d` accepts): inflate each in turn.
                    let rest = Int(stream.avail_in)
                    guard rest > 0 else { break }
                    let next = input.count - rest
                    if input[next...].allSatisfy({ $0 == 0 }) { break }          // zero padding, as gzip allows
                    guard rest >= 2, input[next] == 0x1f, input[next + 1] == 0x8b else {
                        throw Failure(description: "unexpected data after the compressed stream (byte \(next))")
                    }
                    guard inflateReset(&stream) == Z_OK else { throw Failure(description: "zlib could not restart for the next gzip member") }
                    status = Z_OK
                    continue
                }
                guard status == Z_OK else {
                    let msg = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw Failure(description: "corrupt compressed data (\(msg))")
                }
                if stream.avail_in == 0 && produced == 0 { throw Failure(description: "truncated compressed data") }
            } while true
        }
        return out
    }
}
