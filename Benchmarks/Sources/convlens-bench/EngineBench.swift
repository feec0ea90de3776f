import ConvLensEngine
import ConvLensGraph
import Foundation

// Issue 5: the engine at the CPU's real BLAS speed, against PyTorch measured in the same run
// (Benchmarks/python/engine_bench.py, run as a child process between our own runs).

/// Runs `engine_bench.py NAME` in the torch venv; nil (with a note, once) when torch is missing.
func torchMetrics(_ name: String, _ extra: String...) -> [(String, Double)]? {
    let venv = ProcessInfo.processInfo.environment["CONVLENS_TORCH_VENV"] ?? "/work/torch-venv"
    let python = venv + "/bin/python"
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "python/engine_bench.py").path
    guard FileManager.default.isExecutableFile(atPath: python) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: python)
    p.arguments = [script, name] + extra
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0,
          let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Double] else { return nil }
    return obj.keys.sorted().map { ("torch " + $0, obj[$0]!) }
}

func gflops(_ flops: Double, _ t: Double) -> Double { flops / t / 1e9 }

/// sgemm 2048³ as the engine runs it (the core ConvLens chose, its own split over the cores,
/// OpenBLAS one thread per call), against OpenBLAS's own multi-threaded sgemm under every kernel
/// set this CPU can run, each in a child process (the core is fixed when the library loads).
/// Cores the CPU lacks the instructions for are not tried; a core that crashes or fails the
/// correctness check is reported as 0.
let sgemmBench = Bench(name: "engine-sgemm", summary: "sgemm 2048³ ≥ 0.8× best OpenBLAS core") {
    let n = 2048
    _ = Doctor.sgemmGFLOPS(size: 256, runs: 1)
    let ours = Doctor.sgemmGFLOPS(size: n, runs: 3)
    var out: [(String, Double)] = [("ConvLens GFLOP/s (\(BLAS.status.coreName), \(BLAS.threads) threads)", ours)]
    var best = 0.0
    for core in candidateCores() {
        let r = (try? childJSON(executable: URL(fileURLWithPath: CommandLine.arguments[0]), arguments: ["--child", "sgemm-core", String(n)],
                                environment: ["CONVLENS_BLAS_CORE": core]))?["gflops"] ?? 0
        out.append(("OpenBLAS \(core) GFLOP/s (its own \(BLAS.threads) threads)", r))
        best = max(best, r)
    }
    out.append(("ConvLens / best core", ours / best))
    if let t = torchMetrics("sgemm") { out += t }
    return out
}

/// OpenBLAS 0.3.21's x86-64 kernel sets whose instructions this CPU has.
func candidateCores() -> [String] {
    let flags = BLAS.cpuFlags()
    var cores = ["Prescott", "Nehalem"]
    if flags.contains("avx") { cores.append("SandyBridge") }
    if flags.isSuperset(of: ["avx2", "fma"]) { cores += ["Haswell", "Zen"] }
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { cores.append("SkylakeX") }
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"]) { cores.append("Cooperlake") }
    return cores
}

/// The child side: `convlens-bench --child sgemm-core SIZE` with CONVLENS_BLAS_CORE set; OpenBLAS
/// runs its own threads. Prints {"gflops"} (0 when the core failed its check).
func sgemmCoreChild(size n: Int) {
    guard BLAS.status.usingOpenBLAS else { print("{\"gflops\": 0}"); return }
    BLAS.setThreads(BLAS.threads)
    print("{\"gflops\": \(Doctor.sgemmGFLOPS(size: n, runs: 3, openBLASThreads: true))}")
}

/// The largest convolutions of ResNet18 and VGG16 (batch 8 / 2), forward, as GFLOP/s (2·MACs).
let convBench = Bench(name: "engine-conv", summary: "big convs ≥ 0.7× sgemm rate") {
    var out: [(String, Double)] = []
    for (model, input, node) in [("resnet18", [8, 3, 224, 224], "layer1.0.conv1"), ("resnet18", [8, 3, 224, 224], "layer4.0.conv2"),
                                 ("vgg16", [2, 3, 224, 224], "features.2"), ("vgg16", [2, 3, 224, 224], "features.12")] {
        let g = try Registry.graph(model, input: input)
        let n = g.nodes.first { $0.name == node }!
        guard case .conv2d(let l) = n.layer else { continue }
        let x = Tensor(zeros: n.inputShapes[0])
        for i in 0..<x.count { x[i] = Float(i % 13) * 0.1 }
        let geo = ConvGeometry(input: n.inputShapes[0], output: n.outputShape, layer: l)
        let w = Tensor(zeros: l.parameters[0].shape), y = Tensor(zeros: n.outputShape)
        let col = Tensor(zeros: [max(geo.colCount, 1)])
        Kernels.conv2dForward(y, x, w, geo, col: col)
        let t = seconds { Kernels.conv2dForward(y, x, w, geo, col: col) }
        out.append(("\(model) \(node) GFLOP/s", gflops(2 * Double(geo.macs), t)))
    }
    out.append(("sgemm 2048³ GFLOP/s", Doctor.sgemmGFLOPS(size: 2048, runs: 3)))
    if let t = torchMetrics("conv") { out += t }
    return out
}

/// ResNet18 inference, batch 8 at 224×224, and a training step, batch 32 at 64×64 (FamilyBench.swift).
let resnetInferenceBench = modelInferenceBench("resnet18", batch: 8, size: 224)
let resnetTrainBench = modelTrainBench("resnet18", batch: 32, size: 64)

/// Depthwise 3×3, stride 1, padding 1 (MobileNetV2's and EfficientNet's blocks), batch 8, at
/// shapes spanning 96–960 channels: forward (y) and backward (dx + dweight) in ms, against
/// torch's conv2d with groups = C and the same thread count.
let depthwiseShapes = [(96, 56), (144, 56), (192, 28), (384, 14), (960, 7)]

let depthwiseBench = Bench(name: "engine-depthwise", summary: "depthwise 3×3 b8 fwd and bwd ≥ 1.0× PyTorch") {
    var out: [(String, Double)] = []
    var ours: [String: Double] = [:]
    for (c, s) in depthwiseShapes {
        let layer = Conv2d(inChannels: c, outChannels: c, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1],
                           dilation: [1, 1], groups: c, bias: false)
        let shape = [8, c, s, s]
        let g = ConvGeometry(input: shape, output: shape, layer: layer)
        let x = HashInit.input(shape: shape), w = HashInit.input(shape: [c, 1, 3, 3]), dy = HashInit.input(shape: shape)
        let y = Tensor(zeros: shape), dx = Tensor(zeros: shape), dw = Tensor(zeros: w.shape)
        let col = Tensor(zeros: [max(g.colCount, 1)])
        // The mean of ten calls after one, as engine_bench.py times torch's (one call of 0.4 ms is mostly noise).
        let fwd = seconds(warmup: 1, runs: 10) { Kernels.conv2dForward(y, x, w, g, col: col) }
        let bwd = seconds(warmup: 1, runs: 10) { Kernels.conv2dBackward(dx: dx, dweight: dw, dy, x, w, g, col: col) }
        let name = "\(c)@\(s)²"
        ours[name + " fwd"] = fwd * 1e3; ours[name + " bwd"] = bwd * 1e3
        out += [("\(name) fwd ms", fwd * 1e3), ("\(name) bwd ms", bwd * 1e3)]
    }
    guard let torch = torchMetrics("depthwise") else { return out }
    out += torch
    let t = Dictionary(uniqueKeysWithValues: torch)
    for (c, s) in depthwiseShapes {
        for pass in ["fwd", "bwd"] {
            let key = "\(c)@\(s)² \(pass)"
            if let theirs = t["torch " + key + " ms"], let mine = ours[key] { out.append(("\(key) speed vs torch (×)", theirs / mine)) }
        }
    }
    return out
}
