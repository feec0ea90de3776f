// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A nested package so the benchmark harness never slows the main build. The parent package's
// identity is its folder name, which differs between checkouts (CI clones elsewhere): derive it.
let parentURL = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
let parent = parentURL.lastPathComponent

let package = Package(
    name: "ConvLensBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: parentURL.path)],
    targets: [
        .executableTarget(name: "convlens-bench", dependencies: [.product(name: "ConvLens", package: parent)],
                          swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
    ]
)
