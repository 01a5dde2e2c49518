import Support
import Foundation
import Testing
import PipelineFixtures
import Shards
import TestSupport

/// Same command and seed, same bytes, whatever SYNTH_THREADS says: the engine cuts its work by
/// the problem, never by the thread count (see Engine's `Parallel`). Each command runs with 1, 2
/// and 3 threads on the shipped models (real layer sizes, so convolutions do split) and every
/// output file, or the --json output, must hash the same.
@Suite(.enabled(if: Fixtures.fashionAvailable && SourceCommandTests.exist(SourceCommandTests.shippedCaG + SourceCommandTests.shippedGANs + SourceCommandTests.shippedLatent),
                "needs Fashion-MNIST and the shipped models"))
struct ThreadCountTests {
    static let threadCounts = ["1", "2", "3"]

    /// Runs `args` (OUT replaced by a fresh path) once per thread count: the hashes of the files
    /// each run wrote in directory OUT (or of OUT.safetensors), or of its stdout when `stdout`.
    static func runs(_ name: String, _ args: [String], in dir: ScratchDirectory, stdout: Bool = false) throws -> [[String: String]] {
        try threadCounts.map { threads in
            let out = dir.file("\(name)-\(threads)")
            let r = try SynthProcess.run(args.map { $0.replacingOccurrences(of: "OUT", with: out) }, environment: ["SYNTH_THREADS": threads])
            #expect(r.status == 0, "\(name) with SYNTH_THREADS=\(threads): \(r.stderr)")
            if stdout { return ["stdout": r.stdout] }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDir), isDir.boolValue { return try directoryHashes(out) }
            return ["file": try FileDigest.sha256(ofFile: out + ".safetensors")]
        }
    }

    static func expectSame(_ runs: [[String: String]], _ what: String) {
        #expect(!runs[0].isEmpty, "\(what) wrote nothing")
        for (threads, run) in zip(threadCounts, runs).dropFirst() {
            #expect(run == runs[0], "\(what): SYNTH_THREADS=\(threads) differs from SYNTH_THREADS=1")
        }
    }

    @Test func trainAndCAS() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let train = try Self.runs("train", ["train", "--data", "fashion-mnist:train@256", "--arch", "ref-cnn", "--steps", "2",
                                            "--batch", "64", "--seed", "3", "--out", "OUT.safetensors"], in: dir)
        Self.expectSame(train, "train")
        let cas = try Self.runs("cas", ["cas", "--train", "fashion-mnist:train@256", "--test", "fashion-mnist:test@100",
                                        "--steps", "2", "--batch", "64", "--json"], in: dir, stdout: true)
        #expect(cas[0]["stdout"]?.contains("accuracy") == true, "\(cas[0])")
        Self.expectSame(cas, "cas --json")
    }

    @Test func buildsAndPack() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        // Real layer sizes (the shipped models), so convolutions cut into groups; every source's filter.
        let common = ["--classes", "0,5,9", "--per-class", "2", "--seed", "21", "--shard-size", "3", "--name", "ds", "--allow-short", "--out", "OUT"]
        // CaG with its default models, shortened to three stages of two steps; threshold 0 keeps
        // what the filter calls the right class, so the shards hold samples and their probabilities.
        let cag = try Self.runs("cag", ["build", "--source", "cag", "--source-option", "steps_per_stage=2,2,2", "--threshold", "0"] + common, in: dir)
        Self.expectSame(cag, "build --source cag")
        #expect(try Manifest.read(dir.file("cag-1/manifest.json")).numSamples > 0, "the CaG build kept no sample to compare")
        Self.expectSame(try Self.runs("gan", ["build", "--source", "gan"] + common, in: dir), "build --source gan")
        Self.expectSame(try Self.runs("latent", ["build", "--source", "gan-latent"] + common, in: dir), "build --source gan-latent")
        Self.expectSame(try Self.runs("pack", ["pack", "--data", "fashion-mnist:test@40", "--shard-size", "16", "--name", "ds", "--out", "OUT"], in: dir), "pack")
    }
}
