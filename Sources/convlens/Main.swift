import ArgumentParser
import Foundation

/// The entry point. ArgumentParser's own exit for a usage error prints several lines (error, help,
/// usage) and exits 64; ConvLens reports every bad input the same way: one line on stderr naming
/// what is wrong, exit 1. `--help`, `help COMMAND` and a bare `convlens` print help and exit 0.
/// Exit codes: 0 success, 1 bad input or a failed check (verify), and a signal's code only when killed.
@main
enum Main {
    static func main() {
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
