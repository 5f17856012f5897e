// swift-tools-version:6.0
import PackageDescription

/// Release builds tune the hot kernels for AVX2/FMA (any x86-64 CPU since 2013, every GPU host).
/// Measured on the project's machines: about 2x for element-wise code.
let kernelFlags: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))
]

let package = Package(
    name: "NoTrainNoGain",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ntng", targets: ["ntng"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "NoTrainNoGain", targets: ["NoTrainNoGain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // SHA-256 of checkpoint files.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Tensor engine: tensors, autodiff tape, the Backend protocol and the CPU backend.
        .target(name: "Engine", swiftSettings: kernelFlags),
        // zlib, for C4-style .json.gz corpus shards.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Everything above the engine: NN layers, models, optimisers, data, budget, training.
        .target(
            name: "NoTrainNoGain",
            dependencies: [
                "Engine", "CZlib", .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: kernelFlags),
        .executableTarget(
            name: "ntng",
            dependencies: [
                "NoTrainNoGain", "Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // The parsers of outside input as libFuzzer targets (scripts/fuzz.sh), or a replayer of inputs.
        .executableTarget(name: "ntng-fuzz", dependencies: ["NoTrainNoGain"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "NoTrainNoGainTests", dependencies: ["NoTrainNoGain", "Engine"], exclude: ["Fixtures"]),
    ]
)
