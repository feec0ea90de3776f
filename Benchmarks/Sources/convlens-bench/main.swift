import Foundation

// Usage: convlens-bench [NAME…] [--repeats N]. Release build: see Benchmarks/README.md.
// Each issue's benchmarks register here.
let all: [Bench] = [graphBench, diagramBench, analysisBench, analyzeProcessBench]

var args = Array(CommandLine.arguments.dropFirst())
var repeats = 15
if let i = args.firstIndex(of: "--repeats"), i + 1 < args.count { repeats = Int(args[i + 1]) ?? 15; args.removeSubrange(i...(i + 1)) }
let chosen = args.isEmpty ? all : all.filter { args.contains($0.name) }
try runInterleaved(chosen, repeats: repeats)
