import Engine
import Support
import Foundation
import Shards
import Testing
import PipelineFixtures
import TestSupport

/// What a build leaves and how every command treats it (issue 13): a short build fails its check
/// unless --allow-short, also over workers and merge; model files at other paths make the same
/// bytes and merge; an unfinished build is refused by every reader with the hint to resume.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct BuildOutcomeTests {
    /// 3 classes x 4 samples of real test images, shards of 5 (3 shards).
    static func buildArgs(_ out: String, filter: String?, threshold: String = "0.5", extra: [String] = []) -> [String] {
        ["build", "--source", "replay:fashion-mnist:test@300", "--classes", "0,1,7", "--per-class", "4", "--shard-size", "5",
         "--threshold", threshold, "--max-attempts", "8", "--seed", "3", "--name", "ds", "--out", out]
            + (filter.map { ["--filter", $0] } ?? []) + extra
    }

    /// A filter that can accept nothing: the fixture classifier with its last layer zeroed, so
    /// every class gets probability 1/10 whatever the image (not a property of what it learnt).
    static func refusingFilter(in dir: ScratchDirectory) throws -> String {
        var file = try Safetensors.read(try Fixtures.classifier())
        let last = file.names.filter { file.entries[$0]!.shape.first == 10 }
        #expect(!last.isEmpty, "no [10, ...] tensor in the fixture: \(file.names)")
        for name in last {
            let e = file.entries[name]!
            file.entries[name] = SafetensorsEntry(name: name, shape: e.shape, values: [Float](repeating: 0, count: e.count))
        }
        let path = dir.file("refusing.safetensors")
        try Safetensors.write(file.ordered, metadata: file.metadata, to: path)
        return path
    }

    static func manifestBytes(_ dir: String) throws -> [UInt8] { try FileDigest.read(Files.join(dir, "manifest.json")).bytes }

    // MARK: - Short builds

    @Test func aShortBuildWritesItsManifestSaysWhatFellShortAndExitsOne() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Self.refusingFilter(in: dir)
        let out = dir.file("ds")
        let r = try SynthProcess.run(Self.buildArgs(out, filter: filter))
        expectFailure(r, status: 1, mentioning: "short build: 0 of 12 planned samples")
        for needle in ["T-shirt/top 4 short, 0 of 4", "Trouser 4 short", "Sneaker 4 short", "--max-attempts (now 8 per class)",
                       "--threshold (now 0.5)", "--no-filter", "--allow-short"] {
            #expect(r.stderr.contains(needle), "\(needle) not in: \(r.stderr)")
        }
        // The manifest is written and says it: num_samples below planned_samples, counts per class.
        let m = try Manifest.read(Files.join(out, "manifest.json"))
        #expect(m.numSamples == 0 && m.build.plannedSamples == 12 && m.shortfall.map(\.missing) == [4, 4, 4])
        // verify: the files check out (exit 0) and it says the dataset is short of its plan.
        let v = try SynthProcess.run(["verify", out])
        #expect(v.status == 0 && v.stdout.contains("short of its plan: 0 of 12 planned samples"), "\(v.stdout) \(v.stderr)")
        let report = try SynthProcess.run(["report", out])
        #expect(report.status == 0, "\(report.stderr)")
        let md = try String(contentsOfFile: Files.join(out, "report.md"), encoding: .utf8)
        #expect(md.contains("short of its plan: 0 of 12 planned samples"), "\(md)")
        // Resuming the complete short build checks it and fails the same check; --allow-short accepts it.
        expectFailure(try SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--resume"])), status: 1, mentioning: "short build")
        let allowed = try SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--resume", "--allow-short"]))
        #expect(allowed.status == 0 && allowed.stdout.contains("already complete"), "\(allowed.stdout) \(allowed.stderr)")
        #expect(allowed.stderr.contains("short build: 0 of 12 planned samples") && allowed.stderr.contains("accepted"), "\(allowed.stderr)")
    }

    @Test func aBuildThatKeepsItsPlanExitsZeroWithoutANote() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let r = try SynthProcess.run(Self.buildArgs(dir.file("ds"), filter: nil, extra: ["--no-filter"]))
        #expect(r.status == 0 && r.stderr.isEmpty && r.stdout.contains("12 of 12 planned samples in 3 shards"), "\(r.stdout) \(r.stderr)")
        let v = try SynthProcess.run(["verify", dir.file("ds")])
        #expect(v.status == 0 && !v.stdout.contains("short"), "\(v.stdout)")
    }

    /// Workers and merge agree with the single process: each short part fails its check (its part
    /// manifest written), the merge of short parts is short, and the bytes are the single build's.
    @Test func shortWorkersAndTheirMergeAreShortToo() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Self.refusingFilter(in: dir)
        let single = dir.file("single"), parts = dir.file("parts")
        let s = try SynthProcess.run(Self.buildArgs(single, filter: filter, extra: ["--allow-short"]))
        #expect(s.status == 0 && s.stderr.contains("short build"), "\(s.stderr)")
        let w0 = try SynthProcess.run(Self.buildArgs(parts, filter: filter, extra: ["--workers", "2", "--worker", "0"]))
        expectFailure(w0, status: 1, mentioning: "manifest.part-0-of-2.json: short build: 0 of 7 planned samples")
        let w1 = try SynthProcess.run(Self.buildArgs(parts, filter: filter, extra: ["--workers", "2", "--worker", "1", "--allow-short"]))
        #expect(w1.status == 0 && w1.stderr.contains("short build: 0 of 5 planned samples"), "\(w1.stderr)")
        let merged = try SynthProcess.run(["merge", parts])
        expectFailure(merged, status: 1, mentioning: "short build: 0 of 12 planned samples")
        #expect(try Self.manifestBytes(parts) == Self.manifestBytes(single))
        let again = try SynthProcess.run(["merge", parts, "--allow-short"])
        #expect(again.status == 0 && again.stdout.contains("already merged"), "\(again.stdout) \(again.stderr)")
    }

    // MARK: - Models at other paths

    /// The default label ensemble of a build with the default filter (BuildDefaults.labelFiles).
    static let defaultLabelFiles = ["filter-resnet-s.safetensors", "filter-ref-cnn.safetensors", "teacher-ref-cnn.safetensors"]

    /// A models directory holding `source` as the default filter and as each default label model.
    static func modelsDirectory(_ source: String, at path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for name in defaultLabelFiles { try FileManager.default.copyItem(atPath: source, toPath: path + "/" + name) }
    }

    /// Two such directories with copies of one model file under the same names.
    static func modelCopies(_ source: String, in dir: ScratchDirectory) throws -> (String, String) {
        for d in ["a", "b"] { try modelsDirectory(source, at: dir.file(d)) }
        return (dir.file("a"), dir.file("b"))
    }

    @Test func modelsAtOtherPathsGiveTheSameBytesAndMerge() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        // The default filter of a replay build is the GAN sources' (filter-resnet-s); SYNTH_MODELS_DIR moves it.
        let (a, b) = try Self.modelCopies(try Fixtures.classifier(), in: dir)
        // Whether the fixture accepts these images is not what is measured here.
        let args = { (out: String) in Self.buildArgs(out, filter: nil, threshold: "0.1", extra: ["--allow-short"]) }
        let inA = try SynthProcess.run(args(dir.file("in-a")), environment: ["SYNTH_MODELS_DIR": a])
        let inB = try SynthProcess.run(args(dir.file("in-b")), environment: ["SYNTH_MODELS_DIR": b])
        #expect(inA.status == 0 && inB.status == 0, "\(inA.stderr) \(inB.stderr)")
        #expect(try directoryHashes(dir.file("in-a")) == directoryHashes(dir.file("in-b")))
        let m = try Manifest.read(dir.file("in-a/manifest.json"))
        #expect(m.build.models.map(\.path) == ["filter-resnet-s.safetensors"] + Self.defaultLabelFiles && m.build.filters == ["filter-resnet-s.safetensors"])
        #expect(m.build.models.map(\.role) == ["filter", "label", "label", "label"] && m.build.labelModels == Self.defaultLabelFiles)
        #expect(!String(decoding: try Self.manifestBytes(dir.file("in-a")), as: UTF8.self).contains(dir.path))
        // --filter and --label-model given as different paths to the same files: the same bytes too.
        let labels = Self.defaultLabelFiles.flatMap { ["--label-model", b + "/" + $0] }
        let typed = try SynthProcess.run(Self.buildArgs(dir.file("typed"), filter: b + "/filter-resnet-s.safetensors", threshold: "0.1",
                                                        extra: ["--allow-short"] + labels))
        #expect(typed.status == 0, "\(typed.stderr)")
        #expect(try directoryHashes(dir.file("typed")) == directoryHashes(dir.file("in-a")))

        // One worker reads the copies: the parts merge into the single process's bytes.
        let parts = dir.file("parts")
        let w0 = try SynthProcess.run(args(parts) + ["--workers", "2", "--worker", "0"], environment: ["SYNTH_MODELS_DIR": a])
        let w1 = try SynthProcess.run(args(parts) + ["--workers", "2", "--worker", "1"], environment: ["SYNTH_MODELS_DIR": b])
        #expect(w0.status == 0 && w1.status == 0, "\(w0.stderr) \(w1.stderr)")
        let merged = try SynthProcess.run(["merge", parts, "--allow-short"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(try directoryHashes(parts) == directoryHashes(dir.file("in-a")))
    }

    /// A build with the default filter takes the default label ensemble, so a models directory
    /// without one of its files is refused naming it, before any output; a build given its filter
    /// stores the filter's probabilities and needs no label model.
    @Test func theDefaultFilterBringsTheDefaultLabelEnsemble() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let models = dir.file("m")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try Fixtures.classifier(), toPath: models + "/filter-resnet-s.safetensors")
        let env = ["SYNTH_MODELS_DIR": models]
        let missing = try SynthProcess.run(Self.buildArgs(dir.file("x"), filter: nil, threshold: "0.1", extra: ["--allow-short"]), environment: env)
        expectFailure(missing, mentioning: models + "/filter-ref-cnn.safetensors: default label model not found")
        #expect(!FileManager.default.fileExists(atPath: dir.file("x")))
        let given = try SynthProcess.run(Self.buildArgs(dir.file("y"), filter: models + "/filter-resnet-s.safetensors", threshold: "0.1",
                                                        extra: ["--allow-short"]), environment: env)
        #expect(given.status == 0, "\(given.stderr)")
        let m = try Manifest.read(dir.file("y/manifest.json"))
        #expect(m.build.labelModels == nil && m.build.models.map(\.role) == ["filter"])
    }

    @Test func partsOfDifferentModelsAreRefusedNamingTheField() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        // Same name and size, other content: only the SHA-256 tells them apart.
        let one = dir.file("one"), two = dir.file("two")
        for (d, seed) in [(one, UInt64(1)), (two, 2)] { try Self.modelsDirectory(try Fixtures.classifier(seed: seed), at: d) }
        let args = { (out: String, worker: String) in
            Self.buildArgs(out, filter: nil, threshold: "0.1", extra: ["--allow-short", "--workers", "2", "--worker", worker])
        }
        let x = dir.file("x"), y = dir.file("y")
        #expect(try SynthProcess.run(args(x, "0"), environment: ["SYNTH_MODELS_DIR": one]).status == 0)
        // A worker started beside another build's part refuses at once, naming the field.
        expectFailure(try SynthProcess.run(args(x, "1"), environment: ["SYNTH_MODELS_DIR": two]), mentioning: "build.models[0].sha256")
        // Parts made apart and put together: merge names it.
        #expect(try SynthProcess.run(args(y, "1"), environment: ["SYNTH_MODELS_DIR": two]).status == 0)
        for f in try Files.list(y) { try FileManager.default.moveItem(atPath: Files.join(y, f), toPath: Files.join(x, f)) }
        let merged = try SynthProcess.run(["merge", x])
        expectFailure(merged, mentioning: "part 1 differs from part 0")
        #expect(merged.stderr.contains("in build.models[0].sha256"), "\(merged.stderr)")
    }

    // MARK: - Unfinished builds

    @Test func everyReaderRefusesAnUnfinishedBuildWithTheHintToResume() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let out = dir.file("ds")
        // Killed after the second shard's resume record: two complete shards, no manifest.json.
        let killed = try SynthProcess.run(Self.buildArgs(out, filter: nil, extra: ["--no-filter"]), environment: ["SYNTH_TEST_KILL_AT": "recorded:2"])
        #expect(killed.signalled, "\(killed.stderr)")
        let files = try Files.list(out)
        #expect(files.contains("ds-000000.tar") && !files.contains("manifest.json"), "\(files)")

        let readers: [(String, [String])] = [
            ("cas", ["cas", "--train", out, "--test", "fashion-mnist:test@100", "--steps", "1", "--no-record"]),
            ("cas shards:", ["cas", "--train", "shards:\(out)", "--test", "fashion-mnist:test@100", "--steps", "1"]),
            ("preview", ["preview", out, "--out", dir.file("grid.png")]),
            ("audit", ["audit", out, "--real", "fashion-mnist:test@100", "--no-features"]),
            ("report", ["report", out]),
            ("train", ["train", "--data", "shards:\(out)", "--arch", "ref-cnn", "--steps", "1", "--out", dir.file("m.safetensors")]),
        ]
        for (what, args) in readers {
            let r = try SynthProcess.run(args)
            expectFailure(r, mentioning: "\(out): an unfinished build")
            #expect(r.stderr.contains("--resume"), "\(what): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("grid.png")) && !FileManager.default.fileExists(atPath: dir.file("m.safetensors")))
        // verify is the check: exit 1, the same hint.
        expectFailure(try SynthProcess.run(["verify", out]), status: 1, mentioning: "--resume")

        // The complete shards alone, without synth's bookkeeping, are a foreign WebDataset: readable.
        let foreign = dir.file("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        for f in files where f.hasSuffix(".tar") && !f.hasPrefix(".") {
            try FileManager.default.copyItem(atPath: Files.join(out, f), toPath: Files.join(foreign, f))
        }
        let p = try SynthProcess.run(["preview", foreign, "--out", dir.file("foreign.png")])
        #expect(p.status == 0, "\(p.stderr)")

        // And the hint works: --resume finishes it, and every reader takes it.
        let resumed = try SynthProcess.run(Self.buildArgs(out, filter: nil, extra: ["--no-filter", "--resume"]))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try SynthProcess.run(["preview", out, "--out", dir.file("grid.png")]).status == 0)
    }
}
