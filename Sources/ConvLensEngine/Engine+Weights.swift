import ConvLensGraph
import ConvLensONNX

/// How to get a model's parameters and buffers.
public enum WeightSource: Sendable {
    /// A safetensors file with torch's state_dict keys (strict: exactly the model's keys and shapes).
    case file(String)
    /// hash_init (../shared/reference/README.md).
    case hash
    /// The constructor's own initialisation (see `DefaultInit`), seeded.
    case defaultInit(seed: UInt64)
    /// The weights stored in the model file itself (an ONNX file's initializers, under the
    /// state_dict names the import recovered).
    case modelFile
}

extension Engine {
    /// An engine with weights from a file, hash_init or the default initialisation.
    public convenience init(graph: ModelGraph, weights source: WeightSource, dropoutSeed: UInt64 = 0) throws(EngineError) {
        switch source {
        case .hash: try self.init(graph: graph, weights: HashInit.stateDict(graph), dropoutSeed: dropoutSeed)
        case .defaultInit(let seed): try self.init(graph: graph, weights: DefaultInit.stateDict(graph, seed: seed), dropoutSeed: dropoutSeed)
        case .modelFile:
            let path = graph.source.path
            guard Registry.isONNX(path) else { throw EngineError("\(path) holds no weights (give --weights FILE or --init hash|default)") }
            let imported: ImportedModel
            do { imported = try Registry.importONNX(path, input: graph.inputShape) } catch { throw EngineError(error.message) }
            var weights: [String: Tensor] = [:]
            for t in imported.tensors {
                weights[t.name] = Tensor(shape: t.dims, values: t.int64s.map { $0.map(Float.init) } ?? t.floats)
            }
            try self.init(graph: graph, weights: weights, dropoutSeed: dropoutSeed)
        case .file(let path):
            let st = try SafeTensors.read(path)
            do {
                try self.init(graph: graph, weights: try Engine.stateDict(st), dropoutSeed: dropoutSeed)
            } catch {
                throw EngineError("\(path): \(error.message)")
            }
        }
    }

    /// Every tensor of a safetensors file as Float (integer tensors such as num_batches_tracked converted).
    public static func stateDict(_ st: SafeTensors) throws(EngineError) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for name in st.names {
            let e = st.entries[name]!
            switch e.dtype {
            case .f32, .f64, .f16, .bf16: out[name] = try st.tensor(name)
            default: out[name] = Tensor(shape: e.shape, values: try st.integers(name).map { Float($0) })
            }
        }
        return out
    }

    /// The state_dict as torch saves it: parameters and running statistics F32, num_batches_tracked I64,
    /// so `model.load_state_dict(safetensors.torch.load_file(path))` accepts it.
    public func stateDictFile() -> SafeTensors {
        var st = SafeTensors()
        for e in graph.stateDict() {
            let t = state[e.key]!
            if e.localName == "num_batches_tracked" {
                st.set(e.key, int64: [Int64(t[0].rounded())], shape: e.shape)
            } else {
                st.set(e.key, t)
            }
        }
        return st
    }

    /// Writes the state_dict atomically (see `stateDictFile`).
    public func saveWeights(to path: String) throws(EngineError) {
        try stateDictFile().write(to: path)
    }
}
