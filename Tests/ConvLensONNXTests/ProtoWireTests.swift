import ConvLensGraph
import ConvLensONNX
import Foundation
import Testing
import TestSupport

/// The protobuf layer: round trips, both forms of repeated fields, external data, and a seeded
/// mutation fuzz of the reader (every mutant either decodes or throws; none traps).
struct ProtoWireTests {
    static let onnxDir = Paths.reference.appending(path: "onnx")

    @Test func referenceFilesRoundTrip() throws {
        for name in ["convnet.legacy.onnx", "convnet.dynamo.onnx", "lenet5.dynamo.onnx"] {
            let path = Self.onnxDir.appending(path: name).path
            let m = try ONNXFile.read(path)
            #expect(m.opset == 18)
            #expect(m.graph.input.first?.name == "input")
            #expect(m.graph.output.first?.name == "logits")
            let again = try ModelProto(bytes: m.serialized, file: "re-encoded \(name)")
            #expect(again == m, "\(name): decode(encode(m)) != m")
            #expect(again.serialized == m.serialized)
        }
    }

    @Test func initializersDecodeToTheirShapes() throws {
        let path = Self.onnxDir.appending(path: "convnet.legacy.onnx").path
        let m = try ONNXFile.read(path)
        let w = try #require(m.graph.initializer.first { $0.name == "conv_1.weight" })
        let v = try ONNXFile.values(w, file: path)
        #expect(v.dims == [8, 1, 3, 3])
        #expect(v.floats.count == 72)
        #expect(v.floats.contains { $0 != 0 })
    }

    @Test func packedAndUnpackedRepeatedFieldsAgree() throws {
        // TensorProto.dims (field 1) as one packed run and as three separate varints.
        var packed = ProtoWriter()
        packed.packedInt64s(1, [2, 300, 70000])
        var unpacked = ProtoWriter()
        for d: Int64 in [2, 300, 70000] { unpacked.int64(1, d) }
        var floatsUnpacked = ProtoWriter()
        floatsUnpacked.float(4, 1.5)
        floatsUnpacked.float(4, -2)
        let a = try TensorProto(bytes: packed.bytes, file: "packed")
        let b = try TensorProto(bytes: unpacked.bytes, file: "unpacked")
        let c = try TensorProto(bytes: floatsUnpacked.bytes, file: "floats")
        #expect(a.dims == [2, 300, 70000])
        #expect(b.dims == a.dims)
        #expect(c.floatData == [1.5, -2])
    }

    @Test func externalDataIsReadFromBesideTheModel() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "convlens-ext-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        let inline = ONNXFile.floatTensor(name: "w", dims: [2, 3], values: values)
        let payload = [UInt8](repeating: 7, count: 16) + inline.rawData!
        try Data(payload).write(to: dir.appending(path: "model.onnx.data"))
        var t = inline
        t.rawData = nil
        t.dataLocation = 1
        t.externalData = [StringStringEntry("location", "model.onnx.data"), StringStringEntry("offset", "16"), StringStringEntry("length", "24")]
        let decoded = try TensorProto(bytes: t.encoded.bytes, file: "t")
        let v = try ONNXFile.values(decoded, file: dir.appending(path: "model.onnx").path)
        #expect(v.floats == values)
        t.externalData[2] = StringStringEntry("length", "4000")
        #expect(throws: ONNXError.self) { try ONNXFile.values(t, file: dir.appending(path: "model.onnx").path) }
        t.externalData[0] = StringStringEntry("location", "../etc/passwd")
        #expect(throws: ONNXError.self) { try ONNXFile.values(t, file: dir.appending(path: "model.onnx").path) }
    }

    @Test(arguments: [
        ([0x08, 0x80], "truncated varint"),
        ([0x3a, 0x05, 0x01], "runs past the end"),
        ([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f], "runs past the end"),
        ([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], "varint"),
        ([0x0d, 0, 0, 0, 0], "wire type"),             // ir_version as fixed32
        ([0x9b, 0x06], "groups"),                      // field 99 (unknown, skipped), start group
        ([0x0f], "invalid wire type"),
        ([0x00], "invalid field number"),
        ([0x08, 0x08], "no graph"),
    ] as [([UInt8], String)])
    func malformedModelsAreErrors(bytes: [UInt8], expected: String) {
        do {
            _ = try ModelProto(bytes: bytes, file: "bad.onnx")
            Issue.record("decoded \(bytes)")
        } catch {
            #expect(error.description.hasPrefix("bad.onnx: error: ModelProto"), "\(error)")
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test func absurdTensorSizesAreErrors() {
        var t = TensorProto()
        t.name = "huge"
        t.dims = [1 << 40, 1 << 40]
        t.dataType = 1
        t.rawData = [0, 0, 0, 0]
        #expect(throws: ONNXError.self) { try ONNXFile.values(t, file: "f.onnx") }
        t.dims = [-1]
        #expect(throws: ONNXError.self) { try ONNXFile.values(t, file: "f.onnx") }
        t.dims = [2]
        #expect(throws: ONNXError.self) { try ONNXFile.values(t, file: "f.onnx") }
    }

    /// A seeded mutation fuzz: flips, overwrites, inserts, deletes and truncates bytes of a real
    /// export; each mutant must decode or throw an ONNXError (a trap would end the test process).
    @Test func mutatedFilesNeverTrap() throws {
        let path = Self.onnxDir.appending(path: "convnet.legacy.onnx").path
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = SplitMix64(state: 0x0A11_0D0E)
        var decoded = 0, rejected = 0
        for _ in 0..<600 {
            var b = original
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 5 {
                case 0: b[i] ^= UInt8(1 << (rng.next() % 8))
                case 1: b[i] = UInt8(truncatingIfNeeded: rng.next())
                case 2: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                case 3: b.remove(at: i)
                default: b = Array(b[..<i])
                }
                if b.isEmpty { b = [0x08] }
            }
            do {
                let m = try ModelProto(bytes: b, file: "mutant.onnx")
                for t in m.graph.initializer { _ = try? ONNXFile.values(t, file: "mutant.onnx") }
                decoded += 1
            } catch {
                #expect(error.description.hasPrefix("mutant.onnx: error: "))
                rejected += 1
            }
        }
        #expect(rejected > 100, "the mutations should break most files (\(decoded) decoded, \(rejected) rejected)")
    }
}

