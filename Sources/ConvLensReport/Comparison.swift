import ConvLensAnalysis
import ConvLensEngine
import ConvLensGraph
import ConvLensTrain
import Foundation

/// One row of `convlens compare`: a model's size, cost and accuracy. JSON keys are the contract.
public struct ModelComparison: Sendable, Codable, Equatable {
    public struct Latency: Sendable, Codable, Equatable {
        /// Milliseconds per image, engine forward in eval mode, median of the runs.
        public var batch1: Double
        public var batch8: Double
        /// Which engine ran: `Compare.latencyEngine` (the eval fast path). Optional for files written before it was recorded.
        public var engine: String?
        /// ConvLens's threads during the measurement.
        public var threads: Int?
    }
    public var name: String
    /// The zoo file's `meta family` (torchvision's family: ResNet, EfficientNet, …).
    public var family: String
    public var input_shape: [Int]
    /// Every parameter of the model as constructed (`sum(p.numel() for p in model.parameters())`,
    /// GoogLeNet's and Inception3's auxiliary heads included).
    public var params: Int
    /// Parameters of the modules eval mode runs: what inference uses (auxiliary heads excluded).
    public var inference_params: Int
    public var macs: Int
    public var flops: Int
    public var activation_bytes: Int
    /// Receptive field (H, W) at the last feature map larger than 1×1.
    public var rf: [Int]
    /// The node where `rf` is measured.
    public var rf_at: String
    /// Conv2d and Linear layers executed (the depth papers quote).
    public var depth: Int
    public var imagenet_top1: Double?
    public var imagenet_top5: Double?
    public var imagenet_source: String?
    /// torchvision's published figures for the same weights (zoo `meta imagenet_params` and
    /// `imagenet_gflops`: parameters as the weights ship, GMACs at the default input).
    public var imagenet_params: Int?
    public var imagenet_gflops: Double?
    /// Test accuracy of the newest ConvLens training run under reports/runs/ for this model.
    public var fashion_mnist_acc: Double?
    public var fashion_mnist_run: String?
    /// Training images per epoch of that run (60000 for a full run; fewer with --limit).
    public var fashion_mnist_train_images: Int?
    /// MACs per image at the input size that run trained on (Fashion-MNIST's 28×28 adapted to the model).
    public var fashion_mnist_macs: Int?
    public var latency_ms: Latency?
}

extension ModelComparison {
    enum CodingKeys: String, CodingKey {
        case name, family, input_shape, params, inference_params, macs, flops, activation_bytes, rf, rf_at, depth
        case imagenet_top1, imagenet_top5, imagenet_source, imagenet_params, imagenet_gflops, fashion_mnist_acc, fashion_mnist_run, fashion_mnist_train_images, fashion_mnist_macs, latency_ms
    }

    /// Missing values are written as null (the JSON contract), not left out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(family, forKey: .family)
        try c.encode(input_shape, forKey: .input_shape)
        try c.encode(params, forKey: .params)
        try c.encode(inference_params, forKey: .inference_params)
        try c.encode(macs, forKey: .macs)
        try c.encode(flops, forKey: .flops)
        try c.encode(activation_bytes, forKey: .activation_bytes)
        try c.encode(rf, forKey: .rf)
        try c.encode(rf_at, forKey: .rf_at)
        try c.encode(depth, forKey: .depth)
        try c.encode(imagenet_top1, forKey: .imagenet_top1)
        try c.encode(imagenet_top5, forKey: .imagenet_top5)
        try c.encode(imagenet_source, forKey: .imagenet_source)
        try c.encode(imagenet_params, forKey: .imagenet_params)
        try c.encode(imagenet_gflops, forKey: .imagenet_gflops)
        try c.encode(fashion_mnist_acc, forKey: .fashion_mnist_acc)
        try c.encode(fashion_mnist_run, forKey: .fashion_mnist_run)
        try c.encode(fashion_mnist_train_images, forKey: .fashion_mnist_train_images)
        try c.encode(fashion_mnist_macs, forKey: .fashion_mnist_macs)
        try c.encode(latency_ms, forKey: .latency_ms)
    }
}

public enum Compare {
    /// Rows for `models` (default: the registry), each at its default input or `input`.
    public static func rows(models: [String] = Registry.names, input: [Int]? = nil, runsDirectory: String = "reports/runs",
                            measure: Bool = false) throws -> [ModelComparison] {
        let runs = newestRuns(runsDirectory)
        // Models are independent: analyse them on all cores, unless latency is being measured.
        let row: @Sendable (String) throws -> ModelComparison = { m in
            let g = try Analyzer.graph(m, input: input)
            let a = try Analyzer.analyze(g)
            let last = a.lastFeatureMap
            let meta = g.source
            let run = runs[g.name]
            return ModelComparison(
                name: g.name, family: meta.metaValue("family")?.stringValue ?? "", input_shape: g.inputShape, params: a.totals.params, inference_params: inferenceParams(g), macs: a.totals.macs, flops: a.totals.flops,
                activation_bytes: a.totals.activationBytes, rf: last?.rf.size ?? [1, 1], rf_at: last?.name ?? "input",
                depth: a.weightLayerCount,
                imagenet_top1: meta.metaValue("imagenet_top1")?.doubleValue, imagenet_top5: meta.metaValue("imagenet_top5")?.doubleValue,
                imagenet_source: meta.metaValue("imagenet_source")?.stringValue,
                imagenet_params: meta.metaValue("imagenet_params")?.intValue, imagenet_gflops: meta.metaValue("imagenet_gflops")?.doubleValue,
                fashion_mnist_acc: run?.summary.test_acc,
                fashion_mnist_run: run.map { "runs/" + ($0.path as NSString).lastPathComponent },   // relative to reports/
                fashion_mnist_train_images: run.map { r in r.summary.config.limit.map { min($0, 60000) } ?? 60000 },
                fashion_mnist_macs: try run.flatMap { r in try trainedInput(r.summary).map { try Analyzer.analyze(try Analyzer.graph(m, arguments: r.summary.config.arguments, input: [1] + $0)).totals.macs } },
                latency_ms: measure ? try latency(g) : nil)
        }
        return measure ? try models.map(row) : try Parallel.map(models, row)
    }

    /// The C×H×W a run trained on, from its input description ("28×28 grey → 3×28×28, …").
    static func trainedInput(_ s: RunSummary) -> [Int]? {
        guard let arrow = s.input.range(of: "→ ") else { return nil }
        let dims = s.input[arrow.upperBound...].prefix { $0.isNumber || $0 == "×" }.split(separator: "×").compactMap { Int($0) }
        return dims.count == 3 ? dims : nil
    }

    /// Parameters of the modules eval mode runs, and the container-owned parameters
    /// (layer_scale) eval mode reads.
    static func inferenceParams(_ g: ModelGraph) -> Int {
        let evalNodes = g.nodes(training: false)
        let used = Set(evalNodes.compactMap(\.module))
        let read = Set(evalNodes.filter { $0.inputs.isEmpty && $0.kind == .function }.map(\.name))
        return g.stateDict().filter { !$0.isBuffer && (used.contains($0.module) || read.contains($0.key)) }
            .reduce(0) { $0 + $1.shape.reduce(1, *) }
    }

    /// The newest run.json per model: runs are folders `MODEL-YYYYMMDD-HHMMSS`, so the greatest
    /// folder name among a model's runs is its newest (and the choice is reproducible).
    static func newestRuns(_ dir: String) -> [String: (path: String, summary: RunSummary)] {
        var out: [String: (path: String, summary: RunSummary)] = [:]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        for name in names {
            let path = (dir as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent("run.json")),
                  let s = try? JSONDecoder().decode(RunSummary.self, from: data) else { continue }
            let model = (try? Registry.load(s.model).name) ?? s.model
            out[model] = (path, s)
        }
        return out
    }

    /// The engine `--measure` times: built with `fuse: true` and run with `retainForBackward: false`,
    /// which is the eval fast path (Sources/ConvLensEngine/InferencePlan.swift).
    public static let latencyEngine = "ConvLens eval fast path (batch norm folded, fused conv epilogues, Winograd)"

    /// One line naming what `--measure` timed: engine, threads, batches, statistic.
    public static var latencyDescription: String {
        "latency: \(latencyEngine), \(BLAS.threads) thread\(BLAS.threads == 1 ? "" : "s"), batch 1 and batch 8, ms per image, median of 7 after 3 warm-ups"
    }

    /// Forward latency per image on this machine (eval, batch 1 and 8), median of 7 after 3 warm-ups.
    static func latency(_ g: ModelGraph) throws -> ModelComparison.Latency {
        func perImage(_ batch: Int) throws -> Double {
            let shape = [batch] + Array(g.inputShape.dropFirst())
            let graph = try Registry.graph(from: g.source, arguments: g.arguments.map { "\($0.name)=\($0.value)" }, input: shape)
            let engine = try Engine(graph: graph, weights: HashInit.stateDict(graph))
            let x = HashInit.input(shape: shape)
            for _ in 0..<3 { _ = try engine.forward(x, training: false, retainForBackward: false) }
            var times: [Double] = []
            for _ in 0..<7 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try engine.forward(x, training: false, retainForBackward: false)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(batch))
            }
            return times.sorted()[3]
        }
        return .init(batch1: try perImage(1), batch8: try perImage(8), engine: latencyEngine, threads: BLAS.threads)
    }
}
