import ArgumentParser
import Foundation

/// The entry point. ArgumentParser's own exit for a usage error prints several lines (error, help,
/// usage) and exits 64; ConvLens reports every bad input the same way: one line on stderr naming
/// what is wrong, exit 1. `--help`, `help COMMAND` and a bare `convlens` print help and exit 0.
/// Exit codes: 0 success, 1 bad input or a failed check (verify), and a signal's code only when killed.
@main
enum Main {
    static func main() {
        checkCPU()
        do {
            var command = try ConvLens.parseAsRoot()
            try command.run()
        } catch let e as ExitCode {
            exit(e.rawValue)                     // reported already (reportingErrors), or verify's verdict
        } catch {
            if ConvLens.exitCode(for: error) == .success { ConvLens.exit(withError: error) }   // help
            var message = ConvLens.message(for: error)
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            let line = message.split(separator: "\n").first.map(String.init) ?? "invalid command line"
            FileHandle.standardError.write(Data("convlens: error: \(line) (see convlens help)\n".utf8))
            exit(1)
        }
    }
}

/// Release builds compile the engine for AVX2 (see Package.swift); on a CPU without it the first
/// engine loop would die of SIGILL, so say so first. This file is built for the baseline CPU.
func checkCPU() {
    #if arch(x86_64) && !DEBUG && os(Linux)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
    let flags = Set(line.split(separator: " ").map(String.init))
    if !(flags.contains("avx2") && flags.contains("fma")) {
        FileHandle.standardError.write(Data("convlens: error: this release build needs a CPU with AVX2 and FMA (Haswell, Zen or later); build with `swift build` (debug) or remove the engine's -target-cpu flag in Package.swift\n".utf8))
        exit(1)
    }
    #endif
}
