import ConvLensGraph
import Foundation
import Testing
import TestSupport
@testable import ConvLensEngine

/// safetensors: round trip, and strict rejection of damaged or malicious files with one clear line.
struct SafeTensorsTests {
    /// A file with the given JSON header and data bytes.
    static func file(_ header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        var out: [UInt8] = []
        var n = UInt64(h.count)
        for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
        out += h; h = []
        return out + data
    }

    @Test func roundTrip() throws {
        var st = SafeTensors()
        st.set("a.weight", Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, -6.5]))
        st.set("n", int64: [7], shape: [])
        st.metadata["k"] = "v \"quoted\""
        let dir = try EnginePaths.temporaryDirectory()
        let path = dir.appending(path: "x.safetensors").path
        try st.write(to: path)
        let back = try SafeTensors.read(path)
        #expect(back.names == ["a.weight", "n"])
        #expect(try back.tensor("a.weight").values == [1, 2, 3, 4, 5, -6.5])
        #expect(try back.integers("n") == [7])
        #expect(back.metadata["k"] == "v \"quoted\"")
        // The header is padded to 8 bytes, as the reference writer does.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) } % 8 == 0)
        // No temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["x.safetensors"])
    }

    @Test func readsTorchWrittenFiles() throws {
        let st = try SafeTensors.read(EnginePaths.vectors("convnet"))
        #expect(try st.tensor("conv_1.weight").shape == [8, 1, 3, 3])
        #expect(try st.integers("target").count == 4)
    }

    static let bad: [(String, [UInt8], String)] = [
        ("short", [1, 2, 3], "shorter than the 8-byte header length"),
        ("header beyond file", file("{}", data: []).enumerated().map { $0.offset == 0 ? 200 : $0.element }, "goes beyond the end of the file"),
        ("bad json", file("{\"a\": [1,", data: []), "not a JSON object"),
        ("offsets out of range", file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), "tensor 'w': data_offsets [0, 8] out of range"),
        ("overlap", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, data: [UInt8](repeating: 0, count: 6)), "overlap"),
        ("gap", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "gap"),
        ("not covering", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [UInt8](repeating: 0, count: 12)), "do not cover"),
        ("dtype/shape mismatch", file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "tensor 'w': dtype F32 × shape [3] needs 12 bytes"),
        ("unknown dtype", file(#"{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#, data: [0]), "tensor 'w': unknown or missing dtype"),
        ("huge shape", file(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "larger than the file"),
    ]

    @Test(arguments: 0..<bad.count)
    func rejectsDamagedFiles(_ i: Int) {
        let (what, bytes, message) = Self.bad[i]
        do {
            _ = try SafeTensors.parse(bytes, file: "bad.safetensors")
            Issue.record("\(what): accepted")
        } catch {
            #expect(error.message.hasPrefix("bad.safetensors: "), "\(what): \(error.message)")
            #expect(error.message.contains(message), "\(what): \(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func strictWeightsListEveryProblem() throws {
        let graph = try Registry.graph("convnet")
        var w = HashInit.stateDict(graph)
        w["conv_1.bias"] = nil
        w["extra.weight"] = Tensor(zeros: [1])
        w["linear_1.weight"] = Tensor(zeros: [10, 783])
        do {
            _ = try Engine(graph: graph, weights: w)
            Issue.record("accepted bad weights")
        } catch {
            #expect(error.message.contains("missing keys: conv_1.bias"))
            #expect(error.message.contains("unexpected keys: extra.weight"))
            #expect(error.message.contains("linear_1.weight has shape [10, 783], expected [10, 784]"))
        }
    }

    @Test func savedWeightsLoadBack() throws {
        let graph = try Registry.graph("resnet18", input: [1, 3, 32, 32])
        let e = try Engine(graph: graph, weights: .defaultInit(seed: 3))
        let path = try EnginePaths.temporaryDirectory().appending(path: "w.safetensors").path
        try e.saveWeights(to: path)
        let st = try SafeTensors.read(path)
        #expect(st.entries["bn1.num_batches_tracked"]?.dtype == .i64)
        #expect(st.names == graph.stateDict().map(\.key))
        let back = try Engine(graph: graph, weights: .file(path))
        #expect(relativeError(back.state["layer1.0.conv1.weight"]!, e.state["layer1.0.conv1.weight"]!) == 0)
    }

    @Test func hashInitFollowsTheTable() {
        let w = HashInit.tensor("layer1.0.bn1.running_var", shape: [4])
        #expect(w.values.allSatisfy { $0 >= 0.75 && $0 <= 1.25 })
        #expect(HashInit.tensor("bn1.num_batches_tracked", shape: []).values == [0])
        #expect(HashInit.fnv1a("") == 0x811C_9DC5)
    }
}
