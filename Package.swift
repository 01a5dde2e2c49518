// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric modules trade Swift's overflow and bounds traps for speed;
// debug builds (the default for `swift test`) keep every check.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]

let package = Package(
    name: "synth",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "synth", targets: ["SynthCommand"]),
        .library(name: "Engine", targets: ["Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries from Debian: libopenblas-dev, libpng-dev, libarchive-dev, zlib1g-dev.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // Tensors, reverse-mode autodiff, layers, optimisers, safetensors checkpoints.
        .target(name: "Engine", dependencies: ["CBLAS"], swiftSettings: fast),
        // Named architectures (ref-cnn, resnet-s, ...) built from Engine layers.
        .target(name: "Models", dependencies: ["Engine"], swiftSettings: fast),
        // Reading datasets: data specs, IDX, CIFAR, PNG folders, gzip.
        .target(name: "Datasets", dependencies: ["Engine", "CPNG", "CZlib"], swiftSettings: fast),
        // WebDataset tar shards and manifest.json: writing, reading, verifying, merging.
        .target(name: "Shards", dependencies: [
            "Datasets", "CArchive", .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: fast),
        // Classifier training and evaluation, CAS, compression, replay, audits' training side.
        .target(name: "Trainer", dependencies: ["Engine", "Models", "Datasets"], swiftSettings: fast),
        // Confidence-threshold filtering, acceptance statistics, near-copy audits.
        .target(name: "Filter", dependencies: ["Engine", "Models", "Datasets"], swiftSettings: fast),
        // Generation sources: CaG, conditional GAN, latent-conditioned GAN.
        .target(name: "Synth", dependencies: [
            "Engine", "Models", "Datasets", "Trainer", .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: fast),
        // The build pipeline: plan, source -> filter -> shards runner, resume and workers.
        .target(name: "Pipeline", dependencies: ["Engine", "Synth", "Filter", "Shards", "Models", "Datasets"], swiftSettings: fast),
        // What a dataset directory tells people: report.md and a self-contained report.html
        // (sample grids, acceptance, the error-versus-size curve, the audit), and the manifest
        // sections behind them (evaluations, compression placement).
        .target(name: "Report", dependencies: ["Engine", "Datasets", "Shards", "Trainer", "Filter"], swiftSettings: fast),
        // The `synth` command line.
        .executableTarget(name: "SynthCommand", dependencies: [
            "Engine", "Models", "Datasets", "Shards", "Trainer", "Filter", "Synth", "Pipeline", "Report",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: fast),

        // What several test targets share: the finite-difference gradient check, the reference Python.
        .target(name: "TestSupport", dependencies: ["Engine"], path: "Tests/TestSupport"),
        // What the pipeline's and the command line's tests share: small trained filters, scratch directories.
        .target(name: "PipelineFixtures", dependencies: ["Datasets", "Engine", "Models", "Shards", "Trainer"], path: "Tests/PipelineFixtures"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Models", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets"]),
        .testTarget(name: "ShardsTests", dependencies: ["Shards", "Datasets", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Shards", "Filter", "Synth", "Models", "Datasets", "Trainer", "Engine", "PipelineFixtures"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "Models", "Datasets", "Engine"]),
        .testTarget(name: "FilterTests", dependencies: ["Filter", "Models", "Datasets", "Engine"]),
        // Runs the built `synth` binary as a subprocess (exit codes, one-line messages, crash and resume).
        .testTarget(name: "CommandTests", dependencies: ["SynthCommand", "Shards", "Datasets", "Models", "Trainer", "Synth", "Engine", "TestSupport", "PipelineFixtures"]),
        .testTarget(name: "SynthTests", dependencies: ["Synth", "Engine", "Models", "Datasets", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
