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
        // The readers as functions of one input's bytes, for the libFuzzer package in Fuzz/.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Reads ONNX models (Sources/ONNX/Generated/onnx.pb.swift, made by scripts/generate-onnx-swift).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries from Debian: libopenblas-dev, libpng-dev, libarchive-dev, zlib1g-dev.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // What every module stands on: SynthError, file reads and atomic writes, digests,
        // the one level of threading (Parallel), the seeded RNG.
        .target(name: "Support", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: fast),
        // Tensors, reverse-mode autodiff, ops, layers, optimisers, safetensors checkpoints, on OpenBLAS.
        .target(name: "Engine", dependencies: ["Support", "CBLAS"], swiftSettings: fast),
        // ONNX graphs (torch.onnx.export, opsets 11-17) read with swift-protobuf and run on Engine ops:
        // the protobuf schema's generated code, constants folded, each operator mapped onto Engine ops.
        .target(name: "ONNX", dependencies: ["Support", "Engine", .product(name: "SwiftProtobuf", package: "swift-protobuf")], swiftSettings: fast),
        // Named architectures (ref-cnn, resnet-s, ...) built from Engine layers, and .onnx classifiers.
        .target(name: "Models", dependencies: ["Support", "Engine", "ONNX"], swiftSettings: fast),
        // The shard format: WebDataset tar shards, manifest.json and its schema, the build directory's
        // file names, writing and merging shards.
        .target(name: "Shards", dependencies: ["Support", "CArchive"], swiftSettings: fast),
        // Reading datasets: data specs, IDX, CIFAR, PNG folders, gzip, and `shards:DIR` (verified).
        .target(name: "Datasets", dependencies: ["Support", "Shards", "CPNG", "CZlib"], swiftSettings: fast),
        // Confidence-threshold filtering (its verdicts counted into the manifest's ClassStats), near-copy audits.
        .target(name: "Filter", dependencies: ["Support", "Engine", "Models", "Shards", "Datasets"], swiftSettings: fast),
        // Generation sources (sampling only): CaG, conditional GAN, latent-conditioned GAN.
        .target(name: "Synth", dependencies: ["Support", "Engine", "Models", "Datasets"], swiftSettings: fast),
        // Training models: classifiers, the CaG reconstructor (MAE), GANs, the input generator,
        // feature statistics.
        .target(name: "Training", dependencies: ["Support", "Engine", "Models", "Datasets", "Synth"], swiftSettings: fast),
        // Measuring datasets: CAS, compression against real subsets, replay, Frechet distance,
        // the manifest's evaluations section that records them, and the membership-inference check of an export's models.
        .target(name: "Measure", dependencies: ["Support", "Engine", "Models", "Datasets", "Shards", "Filter", "Training"], swiftSettings: fast),
        // Making datasets: the build plan, source -> filter -> shards runner, resume and workers; pack.
        .target(name: "Pipeline", dependencies: ["Support", "Engine", "Synth", "Filter", "Shards", "Models", "Datasets"], swiftSettings: fast),
        // Rendering only: report.md and a self-contained report.html beside a dataset, preview grids.
        .target(name: "Report", dependencies: ["Support", "Engine", "Datasets", "Shards", "Measure", "Filter"], swiftSettings: fast),
        // Every reader of files from elsewhere as a function of one input (gzip+IDX, PNG, CIFAR,
        // safetensors, tar, manifest, sample json, data specs): Fuzz/ drives them with libFuzzer,
        // FuzzTargetsTests replays the committed corpus through them.
        .target(name: "FuzzTargets", dependencies: ["Support", "Engine", "Shards", "Datasets", "ONNX"]),
        // The `synth` command line.
        .executableTarget(name: "SynthCommand", dependencies: [
            "Support", "Engine", "Models", "Datasets", "Shards", "Training", "Measure", "Filter", "Synth", "Pipeline", "Report",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),

        // What several test targets share: the finite-difference gradient check, the reference Python,
        // scratch directories, closeness of float arrays.
        .target(name: "TestSupport", dependencies: ["Support", "Engine"], path: "Tests/TestSupport"),
        // What the pipeline's and the command line's tests share: small trained filters.
        .target(name: "PipelineFixtures", dependencies: ["Support", "Datasets", "Engine", "Models", "Shards", "Training"], path: "Tests/PipelineFixtures"),
        .testTarget(name: "EngineTests", dependencies: ["Support", "Engine", "Models", "TestSupport"]),
        // onnx_models.py: the PyTorch models the tests export at test time (CommandTests runs it too).
        .testTarget(name: "ONNXTests", dependencies: ["Support", "Engine", "ONNX", "Models", "TestSupport"], exclude: ["onnx_models.py"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Support", "Datasets", "Shards"]),
        .testTarget(name: "ShardsTests", dependencies: ["Support", "Shards", "Datasets", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Support", "Pipeline", "Report", "Shards", "Filter", "Synth", "Models", "Datasets", "Training", "Engine", "TestSupport", "PipelineFixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Support", "Training", "Measure", "Synth", "Models", "Datasets", "Engine", "TestSupport"]),
        .testTarget(name: "MeasureTests", dependencies: ["Support", "Measure", "Training", "Models", "Datasets", "Engine"]),
        .testTarget(name: "FilterTests", dependencies: ["Support", "Filter", "Shards", "Models", "Datasets", "Engine"]),
        // Runs the built `synth` binary as a subprocess (exit codes, one-line messages, crash and resume).
        .testTarget(name: "CommandTests", dependencies: ["SynthCommand", "Support", "Shards", "Datasets", "Models", "Training", "Measure", "Synth", "Engine", "TestSupport", "PipelineFixtures"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "SynthTests", dependencies: ["Support", "Synth", "Training", "Engine", "Models", "Datasets", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
