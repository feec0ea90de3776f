import ConvLensEngine
import ConvLensGraph
import Foundation

/// `convlens export MODEL --format pytorch --output DIR`: DIR/model.py (the zoo file as plain
/// PyTorch, `PyTorchModel`), DIR/train.py (its recipe as a DistributedDataParallel program that
/// writes `convlens train`'s run folder), DIR/README.md, and DIR/weights.safetensors when weights
/// or an initialisation are given. DIR is written whole into a temporary folder beside it and
/// renamed into place; an existing DIR is replaced only with `force`.
public enum PyTorchExport {
    /// The grey image sizes train.py gets `convlens train`'s adaptation for precomputed (MNIST's and Fashion-MNIST's).
    public static let precomputedImageSizes = [(28, 28)]

    public struct Result: Sendable {
        public var directory: String
        public var files: [String]
    }

    public static func write(model: String, arguments: [String], weights: WeightSource?, output: String, force: Bool) throws -> Result {
        let file = try Registry.load(model)
        let graph = try Registry.graph(model, arguments: arguments)
        let modelPy = try PyTorchModel.source(file, arguments: graph.arguments)
        var files: [(String, [UInt8])] = [("model.py", Array(modelPy.utf8))]
        files.append(("train.py", Array(try trainScript(file: file, graph: graph, arguments: arguments, weights: weights).utf8)))
        files.append(("README.md", Array(readme(file: file, hasWeights: weights != nil).utf8)))
        if let weights {
            let state: [String: Tensor]
            switch weights {
            case .hash: state = HashInit.stateDict(graph)
            case .defaultInit(let seed): state = try DefaultInit.stateDict(graph, seed: seed)
            case .file, .modelFile: state = try Engine(graph: graph, weights: weights).state      // checks keys and shapes
            }
            files.append(("weights.safetensors", stateDictFile(graph, state).serialized()))
        }
        try writeFolder(files, to: output, force: force)
        return Result(directory: output, files: files.map(\.0))
    }

    /// The state_dict as torch saves it (num_batches_tracked I64), in state_dict order.
    static func stateDictFile(_ graph: ModelGraph, _ state: [String: Tensor]) -> SafeTensors {
        var st = SafeTensors()
        for e in graph.stateDict() {
            if e.localName == "num_batches_tracked" {
                st.set(e.key, int64: [Int64(state[e.key]![0].rounded())], shape: e.shape)
            } else {
                st.set(e.key, state[e.key]!)
            }
        }
        return st
    }

    /// Writes every file into a fresh temporary folder beside `output`, then renames it into place.
    static func writeFolder(_ files: [(String, [UInt8])], to output: String, force: Bool) throws {
        let fm = FileManager.default
        let exists = fm.fileExists(atPath: output)
        if exists && !force {
            throw DataError(output, "already exists; pass --force to replace it (nothing was written)")
        }
        let url = URL(fileURLWithPath: output).standardizedFileURL
        let parent = url.deletingLastPathComponent().path
        guard fm.fileExists(atPath: parent) else { throw DataError(output, "no folder \(parent) to write it in") }
        let tmp = (parent as NSString).appendingPathComponent(".\(url.lastPathComponent).export-\(getpid())")
        try? fm.removeItem(atPath: tmp)
        do {
            try fm.createDirectory(atPath: tmp, withIntermediateDirectories: false)
            for (name, bytes) in files {
                try AtomicFile.write(bytes, to: (tmp as NSString).appendingPathComponent(name))
            }
            if exists {
                let old = (parent as NSString).appendingPathComponent(".\(url.lastPathComponent).replaced-\(getpid())")
                try fm.moveItem(atPath: output, toPath: old)
                try fm.moveItem(atPath: tmp, toPath: output)
                try? fm.removeItem(atPath: old)
            } else {
                try fm.moveItem(atPath: tmp, toPath: output)
            }
        } catch {
            try? fm.removeItem(atPath: tmp)
            if let e = error as? AtomicFile.Failure { throw DataError(e.path, "cannot write (\(e.reason))") }
            throw DataError(output, "cannot write (\((error as NSError).localizedDescription))")
        }
    }

    static func python(_ s: String) -> String { PyTorchSource.string(s) }
    static func python(_ d: Double) -> String { pythonFloatRepr(d) }

    static func trainScript(file: ZooFile, graph: ModelGraph, arguments: [String], weights: WeightSource?) throws -> String {
        let recipe = try TrainConfig.resolve(model: file.name, file: file, data: nil, epochs: nil, batchSize: nil, lr: nil, optimizer: nil,
                                             weightDecay: nil, seed: nil, limit: nil, imageSize: nil, initialization: nil, arguments: arguments)
        let recipeText = "{\"optimizer\": \(python(recipe.optimizer)), \"lr\": \(python(recipe.lr)), \"batch_size\": \(recipe.batchSize), "
            + "\"epochs\": \(recipe.epochs), \"seed\": \(recipe.seed), \"weight_decay\": \(python(recipe.weightDecay))}"
        var adapters: [String] = []
        for (rows, cols) in precomputedImageSizes {
            // num_classes does not change which sizes a network accepts; 10 is MNIST's.
            guard let a = try? InputAdapter.choose(for: file, rows: rows, cols: cols, numClasses: 10, imageSize: nil, arguments: arguments) else { continue }
            var entry = "\"height\": \(a.height), \"width\": \(a.width), "
            switch a.mode {
            case .asIs: entry += "\"mode\": \"as_is\""
            case .resize: entry += "\"mode\": \"resize\""
            case .pad(let t, let l): entry += "\"mode\": \"pad\", \"top\": \(t), \"left\": \(l)"
            }
            adapters.append("\"\(rows)x\(cols)\": {\(entry)}")
        }
        let initText: String
        switch weights {
        case nil: initText = "None"
        case .hash: initText = "'hash'"
        case .defaultInit: initText = "'default'"
        case .file(let p): initText = python((p as NSString).lastPathComponent)
        case .modelFile: initText = python((file.path as NSString).lastPathComponent)
        }
        // The zoo file's `init` lines, resolved per parameter as `--init default` resolves them, for the
        // export's num_classes and MNIST's 10 (fans of the classifier depend on it).
        // A file whose lines do not cover every parameter still exports; train.py then needs --weights.
        var inits: [String] = []
        var initProblem = "None"
        do {
            for n in [graph.argument("num_classes")?.intValue, 10].compactMap({ $0 }) where !inits.contains(where: { $0.hasPrefix("\(n):") }) {
                let g = n == graph.argument("num_classes")?.intValue ? graph : try Registry.graph(from: file, arguments: arguments + ["num_classes=\(n)"], input: nil)
                inits.append("\(n): " + (try initTable(g)))
            }
        } catch {
            inits = []
            initProblem = python("\(error)")
        }
        let fills: [(String, String)] = [
            ("{{MODEL_JSON}}", python(file.name)),
            ("{{MODEL}}", file.name),
            ("{{RECIPE}}", recipeText),
            ("{{ARGUMENTS}}", "[" + arguments.map(python).joined(separator: ", ") + "]"),
            ("{{AUX_LOSS_WEIGHT}}", python(file.auxLossWeight)),
            ("{{DECLARED}}", "(\(file.input[1]), \(file.input[2]), \(file.input[3]))"),
            ("{{ADAPTERS}}", "{" + adapters.joined(separator: ", ") + "}"),
            ("{{EXPORTED_INIT}}", initText),
            ("{{INIT}}", "{" + inits.joined(separator: ",\n        ") + "}"),
            ("{{INIT_PROBLEM}}", initProblem),
        ]
        var s = PyTorchTrainScript.template
        for (k, v) in fills { s = s.replacingOccurrences(of: k, with: v) }
        return s
    }

    /// `[(kind, args, [keys…]), …]`: each distribution of `ModelGraph.initialisation()` and the
    /// parameters drawn from it, in state_dict order of first use.
    static func initTable(_ g: ModelGraph) throws -> String {
        var order: [InitDraw] = []
        var keys: [InitDraw: [String]] = [:]
        for a in try g.initialisation() {
            if keys[a.draw] == nil { order.append(a.draw) }
            keys[a.draw, default: []].append(a.entry.key)
        }
        let rows = order.map { d -> String in
            let (kind, args): (String, [Double])
            switch d {
            case .constant(let c): (kind, args) = ("constant", [c])
            case .normal(let m, let s): (kind, args) = ("normal", [m, s])
            case .uniform(let a, let b): (kind, args) = ("uniform", [a, b])
            case .truncatedNormal(let m, let s, let a, let b): (kind, args) = ("trunc_normal", [m, s, a, b])
            }
            return "(\(python(kind)), (\(args.map(python).joined(separator: ", "))\(args.count == 1 ? "," : "")), [\(keys[d]!.map(python).joined(separator: ", "))])"
        }
        return "[" + rows.joined(separator: ",\n            ") + "]"
    }

    static func readme(file: ZooFile, hasWeights: Bool) -> String {
        let m = file.name
        return """
        # \(m) as PyTorch

        Written by `convlens export \(m) --format pytorch` from `\(file.path)`. Needs torch only
        (1.13 or 2.x; no torchvision).

        - `model.py` — `\(file.className)` in plain PyTorch: `build(**params)` takes the zoo file's params
          (\(file.params.map { "`\($0.name)`" }.joined(separator: ", "))); `print(build())` is `convlens print \(m)`;
          state_dict keys are ConvLens's. In training mode a model with auxiliary heads returns
          `(logits, [aux_logits, …])`.
        - `train.py` — the zoo file's recipe as a DistributedDataParallel program (below).
        \(hasWeights ? "- `weights.safetensors` — the state_dict (`model.load_state_dict(...)`); train.py starts from it.\n" : "")
        ```python
        import model
        net = model.build(num_classes=10)
        print(net)
        ```

        ## Train

        train.py takes `convlens train`'s flags (`--data --epochs --batch-size --lr --optimizer
        --weight-decay --seed --limit --image-size --output-dir --resume --force`), reads MNIST-format IDX
        folders (default: Fashion-MNIST) with the same input adaptation, and writes the same run folder
        (`checkpoint.safetensors`, `weights.safetensors`, `metrics.csv`, `run.json`; rank 0 writes, atomically),
        so `convlens eval \(m) --weights RUN/weights.safetensors` and `convlens compare --runs …` read it.
        `--batch-size` is per process: N processes take N·B images per step.

        One machine, one process (CPU or one GPU):

        ```sh
        python3 train.py --epochs 2 --output-dir runs/\(m)-1
        ```

        One machine, N GPUs (nccl; on CPU, N gloo processes):

        ```sh
        torchrun --standalone --nproc_per_node N train.py --output-dir runs/\(m)-ddp
        torchrun --standalone --nproc_per_node N train.py --sync-bn …     # batch-norm statistics across GPUs
        ```

        Several machines (run on each, R = 0 … M−1; HOST is node 0's address):

        ```sh
        torchrun --nnodes M --node_rank R --nproc_per_node 8 --master_addr HOST --master_port 29500 train.py …
        ```

        Without torchrun, start each process with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and
        MASTER_PORT set (`init_method="env://"`); Debian's torch 1.13 needs this, its torchrun fails
        under Python 3.11. Continue an interrupted run with `--resume RUN` under the same launcher.

        """
    }
}
