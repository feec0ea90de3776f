import Foundation

// Usage: convlens-bench [NAME…] [--repeats N]. Release build: see Benchmarks/README.md.
// Each issue's benchmarks register here.
let all: [Bench] = [graphBench, registryGraphBench, diagramBench, largestDiagramBench, analysisBench, registryAnalysisBench, analyzeProcessBench, trainBench, sgemmBench, convBench, resnetInferenceBench, resnetTrainBench, depthwiseBench] + familyBenches + inferenceBenches

var args = Array(CommandLine.arguments.dropFirst())
// Child processes of benchmarks that measure a whole process (peak memory): --child NAME ARGS…
if args.first == "--child", args.count >= 3 {
    switch args[1] {
    case "train-convnet": try trainConvnetChild(batches: Int(args[2]) ?? 100)
    case "sgemm-core": sgemmCoreChild(size: Int(args[2]) ?? 2048)
    case "infer": try inferChild(model: args[2], batch: Int(args.dropFirst(3).first ?? "8") ?? 8, runs: Int(args.dropFirst(4).first ?? "5") ?? 5)
    default: fatalError("unknown child \(args[1])")
    }
    exit(0)
}
var repeats = 15
if let i = args.firstIndex(of: "--repeats"), i + 1 < args.count { repeats = Int(args[i + 1]) ?? 15; args.removeSubrange(i...(i + 1)) }
let chosen = args.isEmpty ? all : all.filter { args.contains($0.name) }
defer { InferencePeer.removeExports() }       // the ONNX Runtime peers' exports, when any ran
do {
    try runInterleaved(chosen, repeats: repeats)
} catch {
    FileHandle.standardError.write(Data("convlens-bench: error: \(error)\n".utf8))
    exit(1)
}
