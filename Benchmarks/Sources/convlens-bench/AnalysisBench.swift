import ConvLensAnalysis
import ConvLensGraph
import Foundation

/// Issue 3: analysing all seven registry models in one process < 20 ms (graphs built and analysed,
/// and analysis alone), and the same seven through torchinfo.summary in PyTorch for the ratio.
let analysisBench = Bench(name: "analyze-seven", summary: "all seven models analysed in one process < 20 ms") {
    var graphs: [ModelGraph] = []
    let total = try seconds {
        for name in ["lenet5", "convnet", "alexnet", "vgg16", "googlenet", "inception_v3", "resnet18"] {
            let g = try Registry.graph(name)
            graphs.append(g)
            _ = try Analyzer.analyze(g)
        }
    }
    let analyse = try seconds { for g in graphs { _ = try Analyzer.analyze(g) } }
    var metrics = [("ms build+analyze", total * 1000), ("ms analyze", analyse * 1000)]
    if let t = TorchinfoTiming.seconds {
        metrics.append(("torchinfo ms (same 7)", t * 1000))
        metrics.append(("torchinfo / convlens (build+analyze)", t / total))
        metrics.append(("torchinfo / convlens (analyze)", t / analyse))
    }
    return metrics
}

/// One whole `convlens analyze resnet18 --format json` process < 100 ms (release binary).
let analyzeProcessBench = Bench(name: "analyze-process", summary: "one `convlens analyze` process < 100 ms") {
    guard let bin = ConvLensBinary.url else { return [("ms (binary missing: see note)", .nan)] }
    let t = try seconds {
        let p = Process()
        p.executableURL = bin
        p.arguments = ["analyze", "resnet18", "--format", "json"]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
    }
    return [("ms", t * 1000)]
}

/// The release `convlens` binary: $CONVLENS_BIN, else built once with `swift build -c release`
/// in the parent package (scratch path .build-bench).
enum ConvLensBinary {
    static let url: URL? = {
        let env = ProcessInfo.processInfo.environment
        if let p = env["CONVLENS_BIN"] { return URL(fileURLWithPath: p) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let scratch = root.appending(path: ".build-bench")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["swift", "build", "-c", "release", "--product", "convlens", "--package-path", root.path, "--scratch-path", scratch.path]
        p.standardOutput = FileHandle.standardError
        do { try p.run(); p.waitUntilExit() } catch { return nil }
        let bin = scratch.appending(path: "release/convlens")
        guard p.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: bin.path) else {
            print("note: could not build the release convlens binary; set CONVLENS_BIN")
            return nil
        }
        return bin
    }()
}

/// torchinfo.summary over the same seven models, measured once per run by
/// Benchmarks/python/analysis_torchinfo.py in $CONVLENS_TORCH_VENV (default /work/torch-venv).
enum TorchinfoTiming {
    static let seconds: Double? = {
        let venv = ProcessInfo.processInfo.environment["CONVLENS_TORCH_VENV"] ?? "/work/torch-venv"
        let python = URL(fileURLWithPath: venv).appending(path: "bin/python")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "python/analysis_torchinfo.py")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            print("note: no PyTorch venv at \(venv): torchinfo comparison skipped")
            return nil
        }
        let p = Process(), out = Pipe()
        p.executableURL = python
        p.arguments = [script.path, "3"]
        p.standardOutput = out
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let s = obj["seconds"] as? Double else {
            print(text.isEmpty ? "note: torchinfo timing produced nothing" : text.trimmingCharacters(in: .whitespacesAndNewlines))
            return nil
        }
        return s
    }()
}

/// Issue 12: the whole registry analysed (graphs built beforehand): < 100 ms.
let registryAnalysisBench = Bench(name: "registry-analyze", summary: "all 70 models analysed < 100 ms") {
    let graphs = try Registry.names.map { try Registry.graph($0) }
    let t = try seconds { for g in graphs { _ = try Analyzer.analyze(g) } }
    return [("ms", t * 1000), ("models", Double(graphs.count))]
}
