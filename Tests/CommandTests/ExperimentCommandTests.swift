import Foundation
import Measure
import PipelineFixtures
import Shards
import Testing
import TestSupport

/// cas, compress, replay-eval, audit, report and build --reject-near-copies from the outside, on
/// tiny settings (a few optimisation steps): they run end to end, record into the manifest
/// without breaking verify, and refuse a dataset whose shards do not match its manifest before
/// any training.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct ExperimentCommandTests {
    /// Real test images replayed into shards (no filter): a dataset whose content is known.
    static func replayBuild(_ out: String, data: String = "fashion-mnist:test", classes: String = "10", perClass: Int = 6,
                            extra: [String] = []) throws {
        let r = try SynthProcess.run(["build", "--source", "replay:\(data)", "--classes", classes, "--per-class", String(perClass),
                                      "--shard-size", "20", "--no-filter", "--seed", "1", "--out", out] + extra)
        #expect(r.status == 0, "build failed: \(r.stderr)")
    }

    static func manifest(_ dir: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    /// `synth audit DIR --real REAL --no-features --json`, which must succeed: its record.
    static func pixelAudit(_ dir: String, real: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try SynthProcess.run(["audit", dir, "--real", real, "--no-features", "--json"])
        #expect(r.status == 0, "\(r.stderr)", sourceLocation: sourceLocation)
        return try json(r.stdout)
    }

    static let tinyTraining = ["--steps", "4", "--batch", "16"]

    @Test func casReportsEveryClassAndRecordsIntoTheManifest() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds")
        try Self.replayBuild(ds)
        let r = try SynthProcess.run(["cas", "--train", "shards:\(ds)", "--test", "fashion-mnist:test@200"] + Self.tinyTraining)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("CAS accuracy "))
        #expect(r.stdout.split(separator: "\n").filter { $0.hasPrefix("   ") || $0.hasPrefix("  ") }.count == 10, "\(r.stdout)")
        let evaluations = try Self.manifest(ds)["evaluations"] as? [String: Any]
        let cas = evaluations?["cas"] as? [[String: Any]]
        #expect(cas?.count == 1 && (cas?.first?["per_class"] as? [Any])?.count == 10)
        #expect(cas?.first?["steps"] as? Int == 4)
        // The manifest changed, the shards did not: verify still passes; the report is there.
        let v = try SynthProcess.run(["verify", ds])
        #expect(v.status == 0, "\(v.stderr)")
        #expect(dir.exists("ds/report.md") && dir.exists("ds/report.html"))
        // JSON output, no record: the stored list keeps one entry per settings.
        let j = try SynthProcess.run(["cas", "--train", ds, "--test", "fashion-mnist:test@200", "--json"] + Self.tinyTraining)
        #expect(j.status == 0, "\(j.stderr)")
        let out = try Self.json(j.stdout)
        #expect((out["per_class"] as? [Any])?.count == 10 && out["accuracy"] is Double)
        #expect(((try Self.manifest(ds)["evaluations"] as? [String: Any])?["cas"] as? [Any])?.count == 1)
    }

    @Test func softNeedsStoredProbabilities() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        try Self.replayBuild(dir.file("plain"))
        let r = try SynthProcess.run(["cas", "--train", "shards:\(dir.file("plain"))", "--test", "fashion-mnist:test@100", "--soft"] + Self.tinyTraining)
        expectFailure(r, mentioning: "probability vectors")
        // A filtered build stores them.
        let filter = try Fixtures.classifier()
        try Self.replayBuild(dir.file("filtered"), perClass: 4, extra: []).self
        let b = try SynthProcess.run(["build", "--source", "replay:fashion-mnist:test", "--classes", "10", "--per-class", "4",
                                      "--threshold", "0.2", "--filter", filter, "--seed", "2", "--allow-short", "--out", dir.file("soft")])
        #expect(b.status == 0, "\(b.stderr)")
        let s = try SynthProcess.run(["cas", "--train", "shards:\(dir.file("soft"))", "--test", "fashion-mnist:test@100", "--soft", "--json"] + Self.tinyTraining)
        #expect(s.status == 0, "\(s.stderr)")
        #expect(((try Self.json(s.stdout)["settings"] as? [String: Any])?["soft"] as? Bool) == true)
    }

    /// --seeds K: K classifiers on seeds --seed..--seed+K-1, their mean and spread, each run recorded;
    /// --temperature is refused without --soft and out of range, and changes the soft targets.
    @Test func casOverSeedsGivesMeanAndSpreadAndRecordsEachRun() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier()
        let ds = dir.file("soft")
        let b = try SynthProcess.run(["build", "--source", "replay:fashion-mnist:test", "--classes", "10", "--per-class", "4",
                                      "--threshold", "0.2", "--filter", filter, "--seed", "2", "--allow-short", "--out", ds])
        #expect(b.status == 0, "\(b.stderr)")
        let r = try SynthProcess.run(["cas", "--train", ds, "--test", "fashion-mnist:test@100", "--seeds", "3", "--seed", "5", "--json"] + Self.tinyTraining)
        #expect(r.status == 0, "\(r.stderr)")
        let out = try Self.json(r.stdout)
        #expect(out["seeds"] as? [String] == ["5", "6", "7"])
        let accuracies = try #require(out["accuracies"] as? [Double])
        let mean = try #require(out["accuracy_mean"] as? Double), std = try #require(out["accuracy_std"] as? Double)
        #expect(accuracies.count == 3 && abs(mean - accuracies.reduce(0, +) / 3) < 1e-12)
        let m = accuracies.reduce(0, +) / 3
        #expect(abs(std - (accuracies.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 2).squareRoot()) < 1e-12)
        #expect(out["accuracy_min"] as? Double == accuracies.min() && out["accuracy_max"] as? Double == accuracies.max())
        #expect((out["runs"] as? [Any])?.count == 3)
        let stored = (try Self.manifest(ds)["evaluations"] as? [String: Any])?["cas"] as? [[String: Any]] ?? []
        #expect(Set(stored.compactMap { ($0["settings"] as? [String: Any])?["seed"] as? String }) == ["5", "6", "7"])
        let text = try SynthProcess.run(["cas", "--train", ds, "--test", "fashion-mnist:test@100", "--seeds", "2", "--no-record"] + Self.tinyTraining)
        #expect(text.status == 0 && text.stdout.contains("over 2 seeds"), "\(text.stdout)\(text.stderr)")

        // The temperature is a soft-label setting, recorded with the run.
        let t = try SynthProcess.run(["cas", "--train", ds, "--test", "fashion-mnist:test@100", "--soft", "--temperature", "0.5", "--json"] + Self.tinyTraining)
        #expect(t.status == 0, "\(t.stderr)")
        #expect(((try Self.json(t.stdout)["settings"] as? [String: Any])?["temperature"] as? Double) == 0.5)
        for (args, words) in [(["--temperature", "0.5"], "needs --soft"), (["--soft", "--temperature", "0"], "positive"),
                              (["--soft", "--temperature", "nan"], "positive"), (["--seeds", "0"], "1 to 100"),
                              (["--seeds", "2", "--save-model", dir.file("m.safetensors")], "--seeds 1")] {
            expectFailure(try SynthProcess.run(["cas", "--train", ds, "--test", "fashion-mnist:test@100"] + args + Self.tinyTraining),
                          mentioning: words)
        }
    }

    @Test func aDatasetWhoseManifestDoesNotMatchItsFilesIsRefusedBeforeTraining() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds")
        try Self.replayBuild(ds)
        // One byte of the second shard's padding changes: no sample reads differently, the hash does.
        let shard = ds + "/" + ShardFiles.shard("ds", 1)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: shard))
        for args in [["cas", "--train", "shards:\(ds)", "--test", "fashion-mnist:test@100"] + Self.tinyTraining,
                     ["compress", "--synthetic", ds, "--sizes", "100", "--curve", dir.file("curve.json")] + Self.tinyTraining,
                     ["replay-eval", "--synthetic", ds, "--steps-a", "2", "--steps-b", "2"],
                     ["audit", ds, "--real", "fashion-mnist:test@100", "--no-features"]] {
            let r = try SynthProcess.run(args)
            expectFailure(r, mentioning: "does not match manifest.json")
            #expect(r.stderr.contains(ShardFiles.shard("ds", 1)), "\(args[0]): \(r.stderr)")
        }
        #expect(!dir.exists("curve.json"), "compress trained before refusing the dataset")
        // A manifest edited to another hash is refused the same way.
        try bytes.write(to: URL(fileURLWithPath: shard))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: shard))
        var text = try String(contentsOfFile: ds + "/manifest.json", encoding: .utf8)
        let m = try Self.manifest(ds)
        let sha = ((m["shardlist"] as! [[String: Any]])[0]["sha256"] as! String)
        text = text.replacingOccurrences(of: sha, with: String(repeating: "0", count: 64))
        try text.write(toFile: ds + "/manifest.json", atomically: true, encoding: .utf8)
        expectFailure(try SynthProcess.run(["cas", "--train", ds, "--test", "fashion-mnist:test@100"] + Self.tinyTraining),
                      mentioning: "does not match manifest.json")
    }

    @Test func auditFindsExactCopiesAndWritesTheManifest() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("copies")
        // Every sample is an image of fashion-mnist:train@300.
        try Self.replayBuild(ds, data: "fashion-mnist:train@300", perClass: 5)
        let audit = try Self.pixelAudit(ds, real: "fashion-mnist:train@300")
        #expect(audit["samples"] as? Int == 50 && audit["near_copies"] as? Int == 50 && audit["share"] as? Double == 1)
        #expect(((audit["pixel_rms"] as? [String: Any])?["max"] as? Double) == 0)
        let stored = try Self.manifest(ds)["audit"] as? [String: Any]
        #expect(stored?["near_copies"] as? Int == 50 && (stored?["per_class"] as? [Any])?.count == 10)
        #expect(try SynthProcess.run(["verify", ds]).status == 0)
        // A privacy-preserving export must hold no copies: --max-share 0 fails the check.
        let check = try SynthProcess.run(["audit", ds, "--real", "fashion-mnist:train@300", "--no-features", "--max-share", "0"])
        expectFailure(check, status: 1, mentioning: "near-copy share")
    }

    @Test func testImagesAreNotNearCopiesOfTheTrainingSet() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("test-replay")
        try Self.replayBuild(ds, data: "fashion-mnist:test", perClass: 10)
        let audit = try Self.pixelAudit(ds, real: "fashion-mnist:train")
        // Different photographs of garments: at most a stray near-duplicate (Fashion-MNIST has a few).
        #expect((audit["share"] as? Double ?? 1) <= 0.02, "\(audit["share"] ?? "-")")
        #expect(((audit["pixel_rms"] as? [String: Any])?["median"] as? Double ?? 0) > 0.05)
    }

    @Test func buildRejectsNearCopies() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("clean")
        // Candidates are drawn from train@40 (4 per class); the 2 per class of train@20 are copies.
        try Self.replayBuild(ds, data: "fashion-mnist:train@40", perClass: 3,
                             extra: ["--reject-near-copies", "--near-copy-real", "fashion-mnist:train@20"])
        let m = try Self.manifest(ds)
        let stats = (m["filter"] as! [String: Any])["classes"] as! [[String: Any]]
        let rejected = stats.map { $0["rejected_near_copy"] as? Int ?? -1 }
        #expect(rejected.allSatisfy { $0 >= 0 } && rejected.reduce(0, +) > 0, "\(rejected)")
        let rule = (m["build"] as! [String: Any])["reject_near_copies"] as? [String: Any]
        #expect(rule?["real"] as? String == "fashion-mnist:train@20")
        #expect(try SynthProcess.run(["verify", ds]).status == 0)
        #expect(try Self.pixelAudit(ds, real: "fashion-mnist:train@20")["near_copies"] as? Int == 0)
        // The cosine rule needs a filter's features.
        let bad = try SynthProcess.run(["build", "--source", "replay:fashion-mnist:train@40", "--classes", "10", "--per-class", "1",
                                        "--no-filter", "--reject-near-copies", "--near-copy-cosine", "0.99", "--out", dir.file("bad")])
        expectFailure(bad, mentioning: "--near-copy-cosine")
    }

    @Test func compressPlacesADatasetOnTheRealCurve() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds")
        try Self.replayBuild(ds)
        let args = ["compress", "--synthetic", ds, "--real", "fashion-mnist:train@300", "--test", "fashion-mnist:test@200",
                    "--sizes", "50,100", "--curve", dir.file("curve.json"), "--out", dir.file("table.json"), "--json"] + Self.tinyTraining
        let r = try SynthProcess.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        let table = try Self.json(r.stdout)
        let curves = table["curves"] as! [String: Any]
        #expect(((curves["same_steps"] as! [String: Any])["points"] as! [Any]).count == 2)
        let epochs = (curves["same_epochs"] as! [String: Any])["points"] as! [[String: Any]]
        #expect(epochs.count == 2 && curves["epochs"] as? Int == 1)  // 4 steps over 100 samples at batch 16: 1 epoch
        let placed = (table["datasets"] as! [[String: Any]]).first
        #expect(placed?["equivalent_same_steps"] != nil && placed?["source"] as? String == "replay")
        #expect(placed?["compression_raw"] == nil && (placed?["note"] as? String ?? "").contains("real images"))
        #expect(dir.exists("curve.json") && dir.exists("table.json"))
        #expect((try Self.manifest(ds)["evaluations"] as? [String: Any])?["compression"] != nil)
        // The second run reuses the curve and the dataset's stored CAS: same numbers.
        let again = try SynthProcess.run(args)
        #expect(again.status == 0 && again.stdout == r.stdout, "\(again.stderr)")
        #expect(try SynthProcess.run(["verify", ds]).status == 0)
    }

    /// compress --soft: the synthetic set trains on its stored probabilities (here from a label
    /// model, with no filter), the real subsets on their labels; a set without probabilities, or
    /// a temperature without --soft, is refused before any training.
    @Test func compressSoftTrainsTheSyntheticSetOnItsProbabilities() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds"), plain = dir.file("plain")
        try Self.replayBuild(ds, extra: ["--label-model", try Fixtures.classifier()])
        try Self.replayBuild(plain)
        let common = ["compress", "--real", "fashion-mnist:train@300", "--test", "fashion-mnist:test@200", "--sizes", "50,100",
                      "--curve", dir.file("curve.json"), "--json"] + Self.tinyTraining
        let r = try SynthProcess.run(common + ["--synthetic", ds, "--soft", "--temperature", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let table = try Self.json(r.stdout)
        let curveSettings = (table["curves"] as? [String: Any])?["settings"] as? [String: Any]
        #expect(curveSettings?["soft"] as? Bool == false, "the real curve trains on hard labels: \(String(describing: curveSettings))")
        let placed = (table["datasets"] as? [[String: Any]])?.first
        let settings = (placed?["cas"] as? [String: Any])?["settings"] as? [String: Any]
        #expect(settings?["soft"] as? Bool == true && settings?["temperature"] as? Double == 2, "\(String(describing: settings))")
        #expect(placed?["equivalent_same_steps"] != nil)
        // A hard-label run beside it keeps both placements, each in its slot, and the report shows both.
        let hard = try SynthProcess.run(common + ["--synthetic", ds])
        #expect(hard.status == 0, "\(hard.stderr)")
        let evaluations = try Self.manifest(ds)["evaluations"] as? [String: Any]
        let hardSettings = ((evaluations?["compression"] as? [String: Any])?["cas"] as? [String: Any])?["settings"] as? [String: Any]
        let softSettings = ((evaluations?["compression_soft"] as? [String: Any])?["cas"] as? [String: Any])?["settings"] as? [String: Any]
        #expect(hardSettings?["soft"] as? Bool == false && softSettings?["soft"] as? Bool == true,
                "\(String(describing: evaluations?.keys))")
        let report = try String(contentsOfFile: dir.file("ds/report.md"), encoding: .utf8)
        #expect(report.contains("| hard |") && report.contains("| soft, T = 2 |"), "\(report)")
        // The summary lines name each placement's labels as the table does.
        #expect(report.contains("equivalent real training set (labels: hard)")
                && report.contains("equivalent real training set (labels: soft, T = 2)"), "\(report)")

        // A fresh curve file: refused before the real curve trains.
        var fresh = common
        fresh[fresh.firstIndex(of: dir.file("curve.json"))!] = dir.file("fresh.json")
        expectFailure(try SynthProcess.run(fresh + ["--synthetic", plain, "--soft"]), mentioning: "--soft needs stored probability vectors")
        #expect(!dir.exists("fresh.json"), "compress trained the real curve before refusing the set")
        expectFailure(try SynthProcess.run(common + ["--synthetic", ds, "--temperature", "2"]), mentioning: "--temperature 2.0 needs --soft")
    }

    @Test func replayEvalRunsEndToEnd() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let old = dir.file("old")
        try Self.replayBuild(old, data: "fashion-mnist:test", classes: "0,1,2,3,4", perClass: 4)
        let r = try SynthProcess.run(["replay-eval", "--synthetic", old, "--data", "fashion-mnist:train@500", "--test", "fashion-mnist:test@200",
                                      "--steps-a", "3", "--steps-b", "3", "--batch", "16", "--json", "--out", dir.file("replay.json")])
        #expect(r.status == 0, "\(r.stderr)")
        let result = try Self.json(r.stdout)
        let rows = result["rows"] as! [[String: Any]]
        #expect(rows.map { $0["kind"] as! String } == ["none", "real", "synthetic"])
        #expect(rows.map { $0["buffer"] as! Int } == [0, 20, 20])
        #expect((result["recovered"] as? [String: Any])?[old] != nil)
        #expect(dir.exists("replay.json"))
        let solver = try SynthProcess.run(["replay-eval", "--synthetic", old, "--data", "fashion-mnist:train@500", "--test", "fashion-mnist:test@200",
                                           "--steps-a", "3", "--steps-b", "3", "--batch", "16", "--synthetic-labels", "solver"])
        #expect(solver.status == 0 && solver.stdout.contains("synthetic replay labels: solver"), "\(solver.stderr)")
        expectFailure(try SynthProcess.run(["replay-eval", "--synthetic", old, "--synthetic-labels", "teacher"]), mentioning: "--synthetic-labels")
        expectFailure(try SynthProcess.run(["replay-eval", "--steps-a", "2"]), mentioning: "--synthetic")
    }
}
