// swift-tools-version:6.0
import PackageDescription

// The libFuzzer build of synth's readers, a package of its own so that `swift build` and
// `swift test` of synth never see the sanitizer flags. Build and run it with scripts/fuzz:
//   swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -O
//   SYNTH_FUZZ_TARGET=png Fuzz/.build/debug/synth-fuzz Fuzz/corpus/png
// The targets themselves are synth's FuzzTargets module (Sources/FuzzTargets), which the main
// package's FuzzTargetsTests also runs over the committed corpus.
let package = Package(
    name: "synth-fuzz",
    dependencies: [.package(name: "synth", path: "..")],
    targets: [
        .executableTarget(name: "synth-fuzz", dependencies: [.product(name: "FuzzTargets", package: "synth")]),
    ],
    swiftLanguageModes: [.v5]
)
