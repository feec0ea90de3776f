import ArgumentParser
import ConvLensEngine
import Foundation

/// `convlens doctor`: which BLAS kernels and how many threads ConvLens uses, checked and measured.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show the BLAS core, threads, the sgemm correctness check and a quick GFLOP/s measure.")

    @Option(help: "Matrix size for the speed measure (n×n×n sgemm).")
    var size: Int = 1024

    func validate() throws {
        // three n×n float matrices: 8192 is 768 MiB
        guard (1...8192).contains(size) else { throw ValidationError("--size must be between 1 and 8192, got \(size)") }
    }

    func run() throws {
        try reportingErrors {
            print(Doctor.report(size: size))
            if !BLAS.status.usingOpenBLAS { throw ExitCode(1) }
        }
    }
}
