// swift-tools-version: 6.1
import PackageDescription

// Layering (enforced by target dependencies):
//   ConvLensGraph (zoo format, layer kinds, graph, torch printer)
//     ← ConvLensAnalysis (shapes/params/MACs/FLOPs/RF/memory, summary)
//     ← ConvLensEngine (kernels, OpenBLAS, safetensors)
//     ← ConvLensDiagram (Graphviz), ConvLensTrain (IDX data, training)
//     ← convlens (thin CLI)
// Each C library is imported in exactly one Swift file of one target.
// Release builds of the engine on x86-64 target AVX2 (Haswell and later, AMD since Zen): its
// SIMD8 loops become one 256-bit instruction instead of two SSE ones (depthwise convolutions,
// element-wise kernels). `convlens` checks the CPU at start-up and says so if it lacks AVX2.
// CKernels (the inner loops Swift's SIMD types cannot express as shuffles) gets AVX2 and FMA in
// every configuration, and -O2 (its intrinsics would be slow at -O0 in the debug test runs).
#if arch(x86_64)
let engineSwiftSettings: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-target-cpu", "-Xfrontend", "haswell"], .when(configuration: .release))]
let kernelCSettings: [CSetting] = [.unsafeFlags(["-mavx2", "-mfma", "-O2"])]
#else
let engineSwiftSettings: [SwiftSetting] = []
let kernelCSettings: [CSetting] = [.unsafeFlags(["-O2"])]
#endif

let package = Package(
    name: "ConvLens",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ConvLens", targets: ["ConvLensONNX", "ConvLensGraph", "ConvLensAnalysis", "ConvLensEngine", "ConvLensDiagram", "ConvLensTrain", "ConvLensExplain", "ConvLensReport"]),
        .executable(name: "convlens", targets: ["convlens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Header-only: ConvLensEngine dlopen()s libopenblas after choosing OPENBLAS_CORETYPE (read at load time).
        .systemLibrary(name: "COpenBLAS"),
        .systemLibrary(name: "CGraphviz", pkgConfig: "libgvc", providers: [.apt(["libgraphviz-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Embeds zoo/*.zoo into the library at build time, so the binary carries its registry.
        .executableTarget(name: "ZooEmbedder"),
        .plugin(name: "EmbedZoo", capability: .buildTool(), dependencies: ["ZooEmbedder"]),

        // ONNX: the protobuf wire format, ONNX's messages, and the importer that turns a graph into zoo text.
        .target(name: "ConvLensONNX"),
        .target(name: "ConvLensGraph", dependencies: ["ConvLensONNX"], plugins: ["EmbedZoo"]),
        .target(name: "ConvLensAnalysis", dependencies: ["ConvLensGraph"]),
        .target(name: "CKernels", cSettings: kernelCSettings),
        .target(name: "ConvLensEngine", dependencies: ["ConvLensGraph", "ConvLensONNX", "COpenBLAS", "CKernels"],
                swiftSettings: engineSwiftSettings,
                linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "ConvLensDiagram", dependencies: ["ConvLensGraph", "ConvLensAnalysis", "CGraphviz"]),
        .target(name: "ConvLensTrain", dependencies: ["ConvLensGraph", "ConvLensAnalysis", "ConvLensEngine", "CZlib"]),
        .target(name: "ConvLensExplain", dependencies: ["ConvLensGraph", "ConvLensAnalysis", "ConvLensEngine"]),
        .target(name: "ConvLensReport", dependencies: ["ConvLensGraph", "ConvLensAnalysis", "ConvLensEngine", "ConvLensDiagram", "ConvLensTrain"]),
        .executableTarget(name: "convlens", dependencies: [
            "ConvLensGraph", "ConvLensAnalysis", "ConvLensEngine", "ConvLensDiagram", "ConvLensTrain", "ConvLensExplain", "ConvLensReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "TestSupport", dependencies: ["ConvLensGraph"], path: "Tests/TestSupport"),
        .testTarget(name: "ConvLensONNXTests", dependencies: ["ConvLensONNX", "ConvLensGraph", "ConvLensAnalysis", "ConvLensEngine", "TestSupport"]),
        .testTarget(name: "ConvLensGraphTests", dependencies: ["ConvLensGraph", "TestSupport"]),
        .testTarget(name: "ConvLensAnalysisTests", dependencies: ["ConvLensAnalysis", "TestSupport"]),
        .testTarget(name: "ConvLensEngineTests", dependencies: ["ConvLensEngine", "ConvLensAnalysis", "TestSupport"]),
        .testTarget(name: "ConvLensDiagramTests", dependencies: ["ConvLensDiagram", "TestSupport"]),
        .testTarget(name: "ConvLensTrainTests", dependencies: ["ConvLensTrain", "TestSupport"]),
        .testTarget(name: "ConvLensExplainTests", dependencies: ["ConvLensExplain", "ConvLensAnalysis", "TestSupport"]),
        .testTarget(name: "ConvLensReportTests", dependencies: ["ConvLensReport", "TestSupport"]),
    ]
)
