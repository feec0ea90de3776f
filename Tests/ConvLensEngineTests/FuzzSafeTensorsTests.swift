import ConvLensEngine
import Foundation
import Testing
import TestSupport

/// Fuzzing the safetensors reader: mutated files are read (every tensor, as floats and as
/// integers) or refused with one line naming the file.
@Suite struct FuzzSafeTensorsTests {
    static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"I64\"", "\"F16\"",
                         "\"BF16\"", "\"U8\"", "\"__metadata__\"", "null", "true", "-1", "1e400", "[0, 0]", "[]", "\\u0000", "\\ud800"]

    @Test func mutatedFiles() throws {
        var st = SafeTensors()
        st.set("a.weight", Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        st.set("a.bias", Tensor(shape: [3], values: [0, -1, 2]))
        st.set("bn.num_batches_tracked", int64: [7], shape: [])
        st.set("scalar", Tensor(shape: [], values: [3]))
        st.metadata = ["format": "pt", "epoch": "3"]
        let seed = st.serialized()
        var f = Fuzz(target: "safetensors")
        var read = 0
        for _ in 0..<Fuzz.iterations(1000) {
            let bytes = f.mutate(seed, dictionary: Self.tokens)
            f.record(bytes)
            do {
                let s = try SafeTensors.parse(bytes, file: "fuzz.safetensors")
                for name in s.names {
                    _ = try? s.tensor(name)
                    _ = try? s.integers(name)
                }
                read += 1
            } catch {
                #expect(error.description.hasPrefix("fuzz.safetensors: ") && !error.description.contains("\n"), "\(error.description)")
            }
        }
        #expect(read > 0)
    }
}
