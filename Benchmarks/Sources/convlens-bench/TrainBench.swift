import ConvLensEngine
import ConvLensGraph
import ConvLensTrain
import Foundation

/// Issue 6: the seed recipe's training throughput (ConvNet, batch 128, SGD 0.05, in-memory
/// Fashion-MNIST batches) ≥ 1.5× PyTorch with 2 threads, peak memory ≤ PyTorch's. Each side runs
/// in its own child process (so peak RSS is its own), alternating within every repeat.
let trainBench = Bench(name: "train-convnet", summary: "seed recipe images/s ≥ 1.5× PyTorch, peak RSS ≤ PyTorch") {
    let batches = 150
    var metrics: [(String, Double)] = []
    let ours = try childJSON(executable: URL(fileURLWithPath: CommandLine.arguments[0]), arguments: ["--child", "train-convnet", String(batches)])
    metrics.append(("convlens images/s", ours["images_per_s"] ?? .nan))
    metrics.append(("convlens peak RSS MB", ours["peak_rss_mb"] ?? .nan))
    if let torch = try PyTorchScript.run("train_convnet.py", [String(batches)]) {
        metrics.append(("pytorch images/s", torch["images_per_s"] ?? .nan))
        metrics.append(("pytorch peak RSS MB", torch["peak_rss_mb"] ?? .nan))
        metrics.append(("speed ratio convlens/pytorch", (ours["images_per_s"] ?? .nan) / (torch["images_per_s"] ?? .nan)))
        metrics.append(("memory ratio convlens/pytorch", (ours["peak_rss_mb"] ?? .nan) / (torch["peak_rss_mb"] ?? .nan)))
    }
    return metrics
}

/// The child side: `convlens-bench --child train-convnet BATCHES`.
func trainConvnetChild(batches: Int) throws {
    let data = try IDXDataset()
    let file = try Registry.load("convnet")
    let adapter = try InputAdapter.choose(for: file, rows: 28, cols: 28, numClasses: 10, imageSize: nil, arguments: [])
    let graph = try Registry.graph(from: file, input: [128, 1, 28, 28])
    let engine = try Engine(graph: graph, weights: DefaultInit.stateDict(graph, seed: 1))
    var opt = Optimizer(kind: .sgd, lr: 0.05)
    let input = Tensor(zeros: graph.inputShape)
    func step(_ i: Int) throws {
        let start = (i * 128) % 59904
        var targets: [Int] = []
        data.train.images.withUnsafeBufferPointer { img in
            for j in 0..<128 {
                adapter.fill(UnsafeBufferPointer(rebasing: img[((start + j) * 784)..<((start + j + 1) * 784)]), into: input.data + j * 784)
                targets.append(Int(data.train.labels[start + j]))
            }
        }
        _ = try engine.forward(input, training: true)
        let (_, _, d, aux) = try engine.crossEntropy(targets: targets)
        engine.zeroGradients()
        try engine.backward(d, auxGradients: aux, inputGradient: false)
        opt.beginStep()
        for k in engine.parameterKeys { opt.update(k, param: engine.state[k]!.data, grad: engine.gradients[k]!.data, count: engine.state[k]!.count) }
    }
    for i in 0..<10 { try step(i) }
    let t = try seconds { for i in 0..<batches { try step(i) } }
    print("{\"images_per_s\": \(Double(batches * 128) / t), \"peak_rss_mb\": \(peakRSSMegabytes())}")
}

/// This process's peak resident set (VmHWM of /proc/self/status), in MB. Not getrusage's
/// ru_maxrss: Linux keeps that across exec, so a child spawned by a harness that has grown to 1 GB
/// reports the harness's peak (both sides of train-convnet once read 1112 MB).
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kb / 1024
}

/// A benchmark that cannot run: one line on stderr, exit 1.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Runs a process and parses the last JSON object line it prints (numbers only); when there is
/// none, the error carries the last line of its stderr.
func childJSON(executable: URL, arguments: [String], environment: [String: String] = [:]) throws -> [String: Double] {
    let p = Process(), out = Pipe(), err = Pipe()
    p.executableURL = executable
    p.arguments = arguments
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    p.standardError = err
    p.standardOutput = out
    try p.run()
    // stderr is drained on its own thread, so that neither pipe can fill and stall the child.
    nonisolated(unsafe) var errData = Data()
    let drained = DispatchSemaphore(value: 0)
    Thread.detachNewThread { errData = err.fileHandleForReading.readDataToEndOfFile(); drained.signal() }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    drained.wait()
    let text = String(decoding: data, as: UTF8.self)
    guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
          let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        let why = String(decoding: errData, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "no output"
        throw BenchError("\(([executable.lastPathComponent] + arguments.prefix(2)).joined(separator: " ")) gave no JSON (exit \(p.terminationStatus)): \(why)")
    }
    return obj.compactMapValues { ($0 as? NSNumber)?.doubleValue }
}

/// Benchmarks/python scripts run in the PyTorch venv ($CONVLENS_TORCH_VENV, default /work/torch-venv);
/// nil, with a note, when there is none.
enum PyTorchScript {
    static func run(_ script: String, _ args: [String]) throws -> [String: Double]? {
        let venv = ProcessInfo.processInfo.environment["CONVLENS_TORCH_VENV"] ?? "/work/torch-venv"
        let python = URL(fileURLWithPath: venv).appending(path: "bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            print("note: no PyTorch venv at \(venv): PyTorch side of this benchmark skipped")
            return nil
        }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "python/\(script)")
        return try childJSON(executable: python, arguments: [path.path] + args)
    }
}
