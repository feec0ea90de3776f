import ConvLensAnalysis
import ConvLensEngine
import ConvLensGraph
import Foundation
import Synchronization

// Issue 14: inference at ONNX Runtime's speed. ConvLens's fast engine (eval mode, `fuse: true`)
// against ONNX Runtime fed the torchvision model with ConvLens's own weights, exported by
// `torch.onnx.export` at opset 18 (Benchmarks/python/ort_bench.py), and PyTorch eager with the
// same weights; every side with ConvLens's thread count, interleaved in the same run.

/// A model's engines, weights file and ONNX exports, made once per benchmark process.
final class InferencePeer: @unchecked Sendable {
    let model: String, size: Int
    let e8: Engine, e1: Engine
    let x8: Tensor, x1: Tensor
    /// Textbook multiply-accumulates of one image (ConvLens's analysis, eval mode).
    let macsPerImage: Int
    let folder: URL
    var prefix: String { folder.appending(path: model).path }
    var weightsPath: String { folder.appending(path: "\(model).safetensors").path }
    /// ‖ORT − ConvLens‖ / ‖ConvLens‖ over the logits of one input (nil: no ONNX Runtime).
    var exportError: Double?

    init(model: String, size: Int) throws {
        (self.model, self.size) = (model, size)
        let g8 = try Registry.graph(model, input: [8, 3, size, size]), g1 = try Registry.graph(model, input: [1, 3, size, size])
        let weights = try DefaultInit.stateDict(g8, seed: 1)
        e8 = try Engine(graph: g8, weights: weights)
        e1 = try Engine(graph: g1, weights: weights)
        x8 = HashInit.input(shape: g8.inputShape); x1 = HashInit.input(shape: g1.inputShape)
        macsPerImage = try Analyzer.analyze(g1).totals.macs
        folder = Self.exportFolder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try e1.saveWeights(to: weightsPath)
        var check = SafeTensors()
        check.set("input", x1)
        check.set("logits", try e1.forward(x1, training: false, retainForBackward: false))
        let checkPath = folder.appending(path: "\(model)-check.safetensors").path
        try check.write(to: checkPath)
        exportError = try PyTorchScript.run("ort_bench.py", ["export", model, weightsPath, checkPath, prefix, "8", "1"])?["max relative error vs ConvLens"]
    }

    /// Where this process keeps its exports and weights (60–240 MB per model).
    static var exportFolder: URL { FileManager.default.temporaryDirectory.appending(path: "convlens-bench-ort-\(getpid())") }
    /// Removes them; the benchmark process calls it when it ends.
    static func removeExports() { try? FileManager.default.removeItem(at: exportFolder) }

    static let cache = Mutex<[String: InferencePeer]>([:])
    static func shared(_ model: String, size: Int) throws -> InferencePeer {
        if let p = cache.withLock({ $0[model] }) { return p }
        let p = try InferencePeer(model: model, size: size)
        cache.withLock { $0[model] = p }
        return p
    }
}

/// Median seconds of `runs` calls after one warm-up.
func medianSeconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var ts: [Double] = []
    for _ in 0..<runs { ts.append(try seconds(body)) }
    return median(ts)
}

/// The machine's FMA peak: every core's measured FMA rate (see `Doctor.fmaGFLOPS`), once per process.
let fmaPeak: (perCore: Double, all: Double) = (Doctor.fmaGFLOPS(threads: 1), Doctor.fmaGFLOPS(threads: BLAS.availableCores))

/// Batch 8 at `size` (images/s) and batch 1 (ms), ConvLens against ONNX Runtime and PyTorch.
func peerInferenceBench(_ model: String, size: Int = 224) -> Bench {
    Bench(name: "infer-\(model)", summary: "\(model) b8@\(size) ≥ 1.0× ORT images/s; b1 ms ≤ ORT") {
        let p = try InferencePeer.shared(model, size: size)
        let t8 = try medianSeconds(runs: 3) { _ = try p.e8.forward(p.x8, training: false, retainForBackward: false) }
        let t1 = try medianSeconds(runs: 10) { _ = try p.e1.forward(p.x1, training: false, retainForBackward: false) }
        let gflops = { (imagesPerSecond: Double) in 2 * Double(p.macsPerImage) * imagesPerSecond / 1e9 }
        var out: [(String, Double)] = [("ConvLens b8 images/s", 8 / t8), ("ConvLens b1 ms", t1 * 1e3),
                                       ("ConvLens b8 GFLOP/s (2×MACs/s)", gflops(8 / t8))]
        let threads = String(BLAS.threads)
        if let peer = try PyTorchScript.run("ort_bench.py", ["infer", model, p.weightsPath, p.prefix, String(size), threads, "3", "10"]) {
            let ort8 = peer["ORT b8 images/s"] ?? .nan, ort1 = peer["ORT b1 ms"] ?? .nan
            out += [("ORT b8 images/s", ort8), ("ORT b1 ms", ort1), ("ORT b8 GFLOP/s", gflops(ort8)),
                    ("torch b8 images/s", peer["torch b8 images/s"] ?? .nan), ("torch b1 ms", peer["torch b1 ms"] ?? .nan),
                    ("b8 images/s vs ORT (×)", 8 / t8 / ort8), ("b1 speed vs ORT (ORT ms / ConvLens ms, ×)", ort1 / (t1 * 1e3))]
        }
        if let e = p.exportError { out.append(("ORT vs ConvLens logits, relative error", e)) }
        out += [("GMACs per image (analysis)", Double(p.macsPerImage) / 1e9),
                ("FMA peak GFLOP/s, \(BLAS.availableCores) cores (measured)", fmaPeak.all)]
        return out
    }
}

/// The FMA peak beside the nominal clock: measured FMA GFLOP/s on one core and on every core,
/// the clock that implies (2 FMA units × 8 lanes × 2 flops per cycle), and /proc/cpuinfo's MHz.
let fmaPeakBench = Bench(name: "machine-fma-peak", summary: "cores × 2 FMA units × 8 lanes × 2 × clock") {
    let one = Doctor.fmaGFLOPS(threads: 1), all = Doctor.fmaGFLOPS(threads: BLAS.availableCores)
    var out = [("FMA GFLOP/s, 1 core", one), ("FMA GFLOP/s, \(BLAS.availableCores) cores", all),
               ("implied clock GHz (1 core / 32 flops per cycle)", one / 32)]
    if let mhz = cpuinfoMHz() {
        out += [("/proc/cpuinfo MHz", mhz), ("nominal peak GFLOP/s (cores × 2 × 8 × 2 × MHz)", Double(BLAS.availableCores) * 32 * mhz / 1e3)]
    }
    return out
}

/// The first "cpu MHz" of /proc/cpuinfo.
func cpuinfoMHz() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
        if let v = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) { return v }
    }
    return nil
}

let inferenceBenches: [Bench] = [fmaPeakBench] + ["resnet18", "mobilenet_v2", "efficientnet_b0"].map { peerInferenceBench($0) }
    + [threadScalingBench(["resnet18", "mobilenet_v2", "efficientnet_b0"])]

/// `convlens-bench --child infer MODEL [BATCH] [RUNS]`: the fast engine alone, for profilers
/// (`perf record`); prints {"seconds"} (median of RUNS eval forwards at 224).
func inferChild(model: String, batch: Int, runs: Int) throws {
    let g = try Registry.graph(model, input: [batch, 3, 224, 224])
    let e = try Engine(graph: g, weights: .defaultInit(seed: 1))
    let x = HashInit.input(shape: g.inputShape)
    let t = try medianSeconds(runs: runs) { _ = try e.forward(x, training: false, retainForBackward: false) }
    print("{\"seconds\": \(t)}")
}

/// How the fast engine's inference scales with threads: each model at batch 8 and batch 1, in
/// child processes (the thread count is fixed when the engine loads) with `CONVLENS_THREADS=1`
/// and with every core, alternating; the speedup and the parallel efficiency (speedup / cores).
/// On a 2-core machine this checks the splits at 2; what happens at 4 and 8 follows from how
/// each kernel splits its work (Benchmarks/README.md, "Threads").
func threadScalingBench(_ models: [String]) -> Bench {
    Bench(name: "threads-scaling", summary: "fast-engine inference speedup, all cores vs 1 (a yardstick)") {
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]), cores = BLAS.availableCores
        var out: [(String, Double)] = []
        for model in models {
            for (batch, runs) in [(8, 3), (1, 10)] {
                let args = ["--child", "infer", model, String(batch), String(runs)]
                let one = try childJSON(executable: exe, arguments: args, environment: ["CONVLENS_THREADS": "1"])["seconds"] ?? .nan
                let all = try childJSON(executable: exe, arguments: args, environment: ["CONVLENS_THREADS": String(cores)])["seconds"] ?? .nan
                out += [("\(model) b\(batch) ms, 1 thread", one * 1e3), ("\(model) b\(batch) ms, \(cores) threads", all * 1e3),
                        ("\(model) b\(batch) speedup (×)", one / all), ("\(model) b\(batch) efficiency (speedup / \(cores))", one / all / Double(cores))]
            }
        }
        return out
    }
}
