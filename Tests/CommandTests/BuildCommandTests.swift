import Foundation
import PipelineFixtures
import Shards
import Support
import TestSupport
import Testing

/// The `synth` binary end to end: exit codes and messages, SIGKILL at many points then --resume,
/// a full disk, workers from job-array variables, verify of damaged shards, Python readers.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct BuildCommandTests {
    /// A small filtered build: 3 classes x 10, shards of 8 (4 shards, the last short). Whether the
    /// fixture filter fills every class is not what these tests are about (--allow-short).
    static func buildArgs(_ out: String, filter: String, extra: [String] = []) -> [String] {
        ["build", "--source", "replay:fashion-mnist:test", "--classes", "0,1,7", "--per-class", "10", "--shard-size", "8",
         "--threshold", "0.2", "--seed", "11", "--filter", filter, "--allow-short", "--name", "ds", "--out", out] + extra
    }

    /// The uninterrupted build every interrupted one must end up equal to (built once per process).
    static let baseline: Result<(dir: String, hashes: [String: String]), Error> = Result {
        let dir = NSTemporaryDirectory() + "synth-baseline-" + UUID().uuidString
        let r = try SynthProcess.run(buildArgs(dir, filter: try Fixtures.classifier()))
        guard r.status == 0 else { throw ShardsTestError("baseline build failed: \(r.stderr)") }
        return (dir, try directoryHashes(dir))
    }

    struct ShardsTestError: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    @Test func baselineIsCompleteAndVerifies() throws {
        let base = try Self.baseline.get()
        #expect(Set(base.hashes.keys) == Set((0..<4).map { ShardFiles.shard("ds", $0) } + ["manifest.json"]))
        let r = try SynthProcess.run(["verify", base.dir])
        #expect(r.status == 0 && r.stdout.contains("4 shards"), "\(r.stderr)")
    }

    /// Where the build kills itself: inside a unit of generation, half-way through writing a shard,
    /// after the tar is fsynced but before its rename, after the rename but before its resume
    /// record, after the record, after manifest.json but before cleanup, during cleanup.
    static let killPoints = ["unit:2", "sample:5", "sample:17", "shard-synced:1", "shard-renamed:2", "recorded:3",
                             "manifest:1", "cleanup:2"]

    @Test(arguments: killPoints)
    func resumeAfterSIGKILLIsByteIdentical(point: String) throws {
        let base = try Self.baseline.get()
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let out = dir.file("ds")
        let filter = try Fixtures.classifier()
        let killed = try SynthProcess.run(Self.buildArgs(out, filter: filter), environment: ["SYNTH_TEST_KILL_AT": point])
        #expect(killed.signalled && killed.status == SIGKILL, "\(point): status \(killed.status), \(killed.stderr)")
        let after = try directoryHashes(out)
        if !point.hasPrefix("manifest") && !point.hasPrefix("cleanup") {
            #expect(after["manifest.json"] == nil, "\(point): a killed build must not look complete")
        }
        // Every complete-looking shard left behind is a correct one.
        for (file, hash) in after where file.hasSuffix(".tar") && !file.hasPrefix(".") {
            #expect(base.hashes[file] == hash, "\(point): \(file) differs from the uninterrupted build")
        }
        // Without --resume a non-empty directory is refused; with it the build completes identically.
        if !after.isEmpty {
            expectFailure(try SynthProcess.run(Self.buildArgs(out, filter: filter)), mentioning: "not empty")
        }
        let resumed = try SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--resume"]))
        #expect(resumed.status == 0, "\(point): \(resumed.stderr)")
        #expect(try directoryHashes(out) == base.hashes, "\(point): resumed output differs")
    }

    @Test func resumeSurvivesASecondKillDuringTheResume() throws {
        let base = try Self.baseline.get()
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let out = dir.file("ds"), filter = try Fixtures.classifier()
        _ = try SynthProcess.run(Self.buildArgs(out, filter: filter), environment: ["SYNTH_TEST_KILL_AT": "sample:12"])
        let second = try SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--resume"]), environment: ["SYNTH_TEST_KILL_AT": "sample:3"])
        #expect(second.signalled)
        let resumed = try SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--resume"]))
        #expect(resumed.status == 0 && resumed.stdout.contains("kept"), "\(resumed.stderr)")
        #expect(try directoryHashes(out) == base.hashes)
        // Resuming a complete build only checks it.
        let again = try SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--resume"]))
        #expect(again.status == 0 && again.stdout.contains("already complete"), "\(again.stdout) \(again.stderr)")
        // A resume with other flags is refused.
        var other = Self.buildArgs(out, filter: filter, extra: ["--resume"])
        other[other.firstIndex(of: "--seed")! + 1] = "12"
        expectFailure(try SynthProcess.run(other), mentioning: "other flags")
    }

    @Test func fullDiskFailsCleanlyAndResumeFinishes() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let out = dir.file("ds"), filter = try Fixtures.classifier()
        // Files may not exceed 16 KiB: the first shard (8 samples of ~3 KiB of tar) cannot be written.
        let r = try SynthProcess.run(Self.buildArgs(out, filter: filter), limitFileKB: 16)
        expectFailure(r, mentioning: ".ds-000000.tar.partial")
        #expect(r.stderr.contains("File too large"), "\(r.stderr)")
        let left = try Files.list(out)
        #expect(!left.contains("manifest.json") && !left.contains { $0.hasSuffix(".tar") }, "left: \(left)")
        let resumed = try SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--resume"]))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try directoryHashes(out) == Self.baseline.get().hashes)
    }

    @Test func workersFromJobArrayVariablesMergeToTheSameBytes() throws {
        let base = try Self.baseline.get()
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let out = dir.file("ds"), filter = try Fixtures.classifier()
        let envs: [[String: String]] = [["JOB_COMPLETION_INDEX": "0"], ["SLURM_ARRAY_TASK_ID": "1"], ["JOB_COMPLETION_INDEX": "2"]]
        var results = [SynthProcess.Result?](repeating: nil, count: 3)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 3) { i in
            let r = try? SynthProcess.run(Self.buildArgs(out, filter: filter, extra: ["--workers", "3"]), environment: envs[i])
            lock.withLock { results[i] = r }
        }
        for (i, r) in results.enumerated() { #expect(r?.status == 0, "worker \(i): \(r?.stderr ?? "did not run")") }
        expectFailure(try SynthProcess.run(["verify", out]), status: 1, mentioning: "manifest.json")
        let merged = try SynthProcess.run(["merge", out, "--allow-short"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(try directoryHashes(out) == base.hashes)
    }

    @Test func badInputExitsTwoWithOneLine() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier()
        var args = Self.buildArgs(dir.file("a"), filter: filter)
        args[args.firstIndex(of: "--classes")! + 1] = "12"
        expectFailure(try SynthProcess.run(args), mentioning: "only 10 classes")

        let corrupt = dir.file("corrupt.safetensors")
        var bytes = try FileDigest.read(filter).bytes
        for i in 8..<40 { bytes[i] = 0x7b }
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
        expectFailure(try SynthProcess.run(Self.buildArgs(dir.file("b"), filter: corrupt)), mentioning: corrupt)
        #expect(!FileManager.default.fileExists(atPath: dir.file("b")), "nothing is created for bad input")

        try Data([1]).write(to: URL(fileURLWithPath: dir.file("plainfile")))
        expectFailure(try SynthProcess.run(Self.buildArgs(dir.file("plainfile/out"), filter: filter)), mentioning: dir.file("plainfile/out"))
        expectFailure(try SynthProcess.run(Self.buildArgs(dir.file("plainfile"), filter: filter)), mentioning: "not a directory")

        var cag = Self.buildArgs(dir.file("c"), filter: filter)
        cag[cag.firstIndex(of: "--source")! + 1] = "cag"
        // No default models where SYNTH_MODELS_DIR points: the missing file is named.
        expectFailure(try SynthProcess.run(cag, environment: ["SYNTH_MODELS_DIR": dir.path]), mentioning: dir.file("teacher-ref-cnn.safetensors"))
        expectFailure(try SynthProcess.run(["verify", dir.file("missing")]), mentioning: "no such directory")
        expectFailure(try SynthProcess.run(["merge", dir.path]), mentioning: "no part manifests")
        expectFailure(try SynthProcess.run(["pack", "--data", "fashion-mnist:nope", "--out", dir.file("p")]), mentioning: "fashion-mnist:nope")
    }

    /// One flipped byte anywhere in a shard fails verify (exit 1) naming the shard, and the sample
    /// where the damage can be placed.
    @Test func verifyCatchesAFlippedByteAnywhere() throws {
        let base = try Self.baseline.get()
        let shard = "ds-000001.tar"
        let original = try FileDigest.read(base.dir + "/" + shard).bytes
        let members = try TarReader.members(of: base.dir + "/" + shard)
        // Offsets of the first sample's members (headers of 512 bytes, data padded to 512).
        var offsets: [String: Int] = [:]
        var at = 0
        for m in members {
            offsets[m.name] = at + 512
            at += 512 + (m.size + 511) / 512 * 512
        }
        let key = String(members[0].name.prefix(9))
        #expect(key == "000000008")
        let jsonAt = offsets[key + ".json"]!, pngAt = offsets[key + ".png"]!
        let json = members[1].bytes
        // The seed's second digit ("seed":"NN...): a changed digit still parses, so only the hash sees it.
        let seedDigit = (0..<(json.count - 7)).first { Array(json[$0..<($0 + 7)]) == Array(#""seed":"#.utf8) }! + 9
        // (what, offset, xor, the sample the message must name; nil where only the hash sees it)
        let cases: [(String, Int, UInt8, String?)] = [
            ("header mode", 101, 0x04, key),
            ("header name", 3, 0x04, "000400008"),
            ("header checksum", 150, 0x01, key),
            ("cls digit", offsets[key + ".cls"]!, 0x04, key),
            ("json brace", jsonAt, 0x04, key),
            ("json seed digit", jsonAt + seedDigit, 0x01, nil),
            ("png data", pngAt + members[2].size / 2, 0x04, key),
            ("png signature", pngAt + 1, 0x04, key),
            ("padding after a member", pngAt + members[2].size + 3, 0x04, key),
            ("end-of-archive padding", original.count - 100, 0x04, String(members.last!.name.prefix(9))),
        ]
        for (what, offset, xor, sample) in cases {
            let dir = ScratchDirectory(); defer { dir.cleanup() }
            try FileManager.default.removeItem(atPath: dir.path)
            try FileManager.default.copyItem(atPath: base.dir, toPath: dir.path)
            var bytes = original
            bytes[offset] ^= xor
            try Data(bytes).write(to: URL(fileURLWithPath: dir.file(shard)))
            let r = try SynthProcess.run(["verify", dir.path])
            expectFailure(r, status: 1, mentioning: shard)
            if sample == nil { #expect(r.stderr.contains("sha256"), "\(what): \(r.stderr)") }
            if let sample { #expect(r.stderr.contains("sample \(sample)"), "\(what): \(r.stderr)") }
        }
    }

    @Test func packVerifyPreviewAndTrainFromShards() throws {
        let base = try Self.baseline.get()
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let grid = try SynthProcess.run(["preview", base.dir, "--out", dir.file("grid.png"), "--per-row", "5"])
        // One row per class the build kept (which ones the tiny filter accepts is the fixture's business).
        let manifest = try Manifest.read(base.dir + "/manifest.json")
        let counts = manifest.shardlist.reduce(into: [Int](repeating: 0, count: manifest.classes.count)) { sum, shard in
            for (c, k) in shard.classCounts.enumerated() { sum[c] += k }
        }
        let rows = counts.indices.filter { counts[$0] > 0 }.map { "\($0) \(manifest.classes[$0])" }.joined(separator: ", ")
        #expect(!rows.isEmpty && Set(counts.indices.filter { counts[$0] > 0 }).isSubset(of: [0, 1, 7]))
        #expect(grid.status == 0 && grid.stdout.contains("rows \(rows)\n"), "\(grid.stdout) \(grid.stderr)")
        let png = try FileDigest.read(dir.file("grid.png")).bytes
        #expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47]))
        let packed = try SynthProcess.run(["pack", "--data", "fashion-mnist:test@100", "--out", dir.file("p/"), "--shard-size", "64"])
        #expect(packed.status == 0, "\(packed.stderr)")
        #expect(try Files.list(dir.file("p")) == ["manifest.json", "p-000000.tar", "p-000001.tar"])
        #expect(try SynthProcess.run(["verify", dir.file("p")]).status == 0)
        expectFailure(try SynthProcess.run(["pack", "--data", "fashion-mnist:test@100", "--out", dir.file("p")]), mentioning: "not empty")
        // A synth dataset is training data (with soft labels from the filter's probabilities).
        let trained = try SynthProcess.run(["train", "--data", "shards:\(base.dir)", "--arch", "ref-cnn", "--steps", "1", "--batch", "8",
                                            "--soft", "--out", dir.file("m.safetensors")])
        #expect(trained.status == 0, "\(trained.stderr)")
    }

    @Test(.enabled(if: ReferencePython.path != nil, "SYNTH_PYTHON is not set (scripts/test sets it): webdataset, tarfile and jsonschema checks skipped"))
    func pythonReadersAgree() throws {
        let base = try Self.baseline.get()
        let script = """
        import sys, json, glob, os, tarfile
        import webdataset as wds
        d = sys.argv[1]
        m = json.load(open(os.path.join(d, "manifest.json")))
        urls = [os.path.join(d, s["url"]) for s in m["shardlist"]]
        # tarfile: members in order, cls/json/png per key, sorted keys, reproducible headers.
        for u in urls:
            names = []
            with tarfile.open(u) as t:
                for info in t.getmembers():
                    assert info.mode == 0o444 and info.uid == 0 and info.gid == 0 and info.mtime == 0, info
                    names.append(info.name)
            keys = [n.split(".")[0] for n in names[::3]]
            assert names == [k + "." + e for k in keys for e in ("cls", "json", "png")], names[:6]
            assert keys == sorted(keys)
        # webdataset: every sample has the three members, labels agree, counts match the manifest.
        n = 0
        counts = [0] * len(m["classes"])
        for s in wds.WebDataset(urls, shardshuffle=False):
            assert set(k for k in s if not k.startswith("_")) == {"cls", "json", "png"}, s.keys()
            cls = int(s["cls"]); meta = json.loads(s["json"])
            assert meta["class"] == cls and meta["class_name"] == m["classes"][cls]
            assert s["__key__"] == "%09d" % int(s["__key__"]) and cls == m["build"]["classes"][int(s["__key__"]) % len(m["build"]["classes"])]
            assert abs(sum(meta["probs"]) - 1) < 1e-4 and meta["confidence"] == meta["probs"][cls]
            counts[cls] += 1; n += 1
        assert n == m["num_samples"], (n, m["num_samples"])
        assert counts == [sum(s["class_counts"][c] for s in m["shardlist"]) for c in range(len(counts))]
        print(n)
        """
        let out = try ReferencePython.run(script, [base.dir])
        #expect(out?.trimmingCharacters(in: .whitespacesAndNewlines) == String(try Manifest.read(base.dir + "/manifest.json").numSamples))
    }
}
