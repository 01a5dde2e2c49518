import Foundation
import PipelineFixtures
import Testing
import TestSupport

/// `synth audit --holdout`: the distance to the closest record against a holdout, its two
/// controls (training images flagged, unseen images not), the --max-leak gate's exit codes, the
/// membership check of a build's models, and bad inputs.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct PrivacyAuditTests {
    static func pack(_ data: String, _ out: String) throws {
        let r = try SynthProcess.run(["pack", "--data", data, "--out", out])
        #expect(r.status == 0, "pack failed: \(r.stderr)")
    }

    static func audit(_ args: [String], environment: [String: String] = [:],
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try SynthProcess.run(["audit"] + args + ["--json"], environment: environment)
        #expect(r.status == 0, "\(r.stderr)", sourceLocation: sourceLocation)
        return try ExperimentCommandTests.json(r.stdout)
    }

    static func share(_ record: [String: Any], _ measure: String) -> Double? {
        ((record["dcr"] as? [String: Any])?[measure] as? [String: Any])?["closer_to_training"] as? Double
    }

    /// Control 1: an "export" that is the training reference itself is flagged, by pixels and by
    /// features, and the --max-leak gate fails it (exit 1) and passes it above its share.
    @Test func packedTrainingImagesAreFlagged() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("train")
        try Self.pack("fashion-mnist:train@300", ds)
        let args = [ds, "--real", "fashion-mnist:train@300", "--holdout", "fashion-mnist:test@300",
                    "--model", try Fixtures.classifier()]
        let record = try Self.audit(args)
        #expect((Self.share(record, "pixel") ?? 0) >= 0.95, "\(record["dcr"] ?? "-")")
        #expect((Self.share(record, "features") ?? 0) >= 0.95, "\(record["dcr"] ?? "-")")
        let dcr = record["dcr"] as? [String: Any]
        #expect(dcr?["reference_size"] as? Int == 300 && dcr?["samples"] as? Int == 300)
        #expect((dcr?["per_class"] as? [Any])?.count == 10)
        // Both distributions are in the manifest and the overlaid histograms in the report.
        let stored = try ExperimentCommandTests.manifest(ds)["audit"] as? [String: Any]
        #expect(Self.share(stored ?? [:], "pixel") == Self.share(record, "pixel"))
        let html = try String(contentsOfFile: ds + "/report.html", encoding: .utf8)
        #expect(html.contains("id=\"privacy\"") && html.contains("class=\"histogram dcr\""))
        #expect(try SynthProcess.run(["verify", ds]).status == 0)
        // The gate.
        let fail = try SynthProcess.run(["audit"] + args + ["--max-leak", "0.9", "--no-record"])
        expectFailure(fail, status: 1, mentioning: "--max-leak")
        let pass = try SynthProcess.run(["audit"] + args + ["--max-leak", "1", "--no-record"])
        #expect(pass.status == 0, "\(pass.stderr)")
    }

    /// Control 2: one half of the test set, audited with the other half as the holdout (`@~N`),
    /// sits as near the holdout as the training images; the gate passes it.
    @Test func packedHoldoutImagesAreNotFlagged() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("unseen")
        try Self.pack("fashion-mnist:test@2000", ds)
        let args = [ds, "--real", "fashion-mnist:train", "--holdout", "fashion-mnist:test@~2000", "--no-features"]
        let record = try Self.audit(args)
        let share = Self.share(record, "pixel") ?? 0
        #expect(share >= 0.45 && share <= 0.55, "\(record["dcr"] ?? "-")")
        let dcr = record["dcr"] as? [String: Any]
        // The larger set (train, 60000) was brought to the holdout's size (8000).
        #expect(dcr?["reference_size"] as? Int == 8000 && dcr?["training_available"] as? Int == 60000
                && dcr?["holdout_available"] as? Int == 8000)
        let gate = try SynthProcess.run(["audit"] + args + ["--max-leak", "0.6", "--no-record"])
        #expect(gate.status == 0, "\(gate.stderr)")
        // The same command and seed give the same record.
        #expect(try Self.audit(args + ["--no-record"])["dcr"] as? NSDictionary == dcr as NSDictionary?)
    }

    /// The build's filter is checked for membership inference, found by file name in the models
    /// directory; when it is missing the audit says so in one line.
    @Test func membershipOfTheBuildsModels() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds"), filter = try Fixtures.classifier()
        let b = try SynthProcess.run(["build", "--source", "replay:fashion-mnist:test", "--classes", "10", "--per-class", "3",
                                      "--threshold", "0", "--filter", filter, "--allow-short", "--seed", "1", "--out", ds])
        #expect(b.status == 0, "\(b.stderr)")
        let models = (filter as NSString).deletingLastPathComponent
        let args = [ds, "--real", "fashion-mnist:train@400", "--holdout", "fashion-mnist:test@400", "--no-features"]
        let record = try Self.audit(args, environment: ["SYNTH_MODELS_DIR": models])
        let checks = (record["membership"] as? [String: Any])?["models"] as? [[String: Any]]
        #expect(checks?.count == 1 && checks?.first?["role"] as? String == "filter", "\(record["membership"] ?? "-")")
        let auc = checks?.first?["auc"] as? Double ?? -1
        #expect(auc >= 0 && auc <= 1)
        let empty = dir.file("no-models")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let missing = try SynthProcess.run(["audit"] + args, environment: ["SYNTH_MODELS_DIR": empty])
        SynthProcess.expectBadInput(missing, mentioning: [(filter as NSString).lastPathComponent, "missing"])
    }

    /// A train-gan checkpoint holds the discriminator, which is checked; the exported generator
    /// beside it holds none and is listed as skipped.
    @Test func aGANCheckpointsDiscriminatorIsChecked() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds"), gan = dir.file("g.safetensors")
        try Self.pack("fashion-mnist:test@50", ds)
        let t = try SynthProcess.run(["train-gan", "--data", "fashion-mnist:train@200", "--steps", "2", "--batch", "8", "--width", "4",
                                      "--d-width", "4", "--z-dim", "8", "--seed", "1", "--out", gan])
        #expect(t.status == 0, "\(t.stderr)")
        let record = try Self.audit([ds, "--real", "fashion-mnist:train@200", "--holdout", "fashion-mnist:test@~50", "--no-features",
                                     "--membership-model", dir.file("g.ckpt.safetensors"), "--membership-model", gan])
        let checks = (record["membership"] as? [String: Any])?["models"] as? [[String: Any]] ?? []
        #expect(checks.count == 2, "\(record["membership"] ?? "-")")
        #expect(checks.first?["signal"] as? String == "negated discriminator score")
        let auc = checks.first?["auc"] as? Double ?? -1
        #expect(auc >= 0 && auc <= 1)
        #expect(checks.last?["auc"] == nil && (checks.last?["skipped"] as? String)?.contains("no discriminator") == true)
    }

    @Test func badHoldoutsExitTwoWithOneLine() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ds = dir.file("ds")
        try Self.pack("fashion-mnist:train@50", ds)
        TinyIDX.write(images: 20, side: 16, to: dir, imageName: "small.idx", labelName: "small-lab.idx")
        TinyIDX.write(images: 20, to: dir)
        let base = ["audit", ds, "--real", "fashion-mnist:train@50", "--no-features"]
        // Another image shape.
        SynthProcess.expectBadInput(try SynthProcess.run(base + ["--holdout", "idx:\(dir.file("small.idx")),\(dir.file("small-lab.idx"))"]),
                                    mentioning: ["holdout", "[1, 16, 16]"])
        // Other classes.
        SynthProcess.expectBadInput(try SynthProcess.run(base + ["--holdout", "idx:\(dir.file("img.idx")),\(dir.file("lab.idx"))"]),
                                    mentioning: ["holdout", "classes"])
        // Missing files.
        SynthProcess.expectBadInput(try SynthProcess.run(base + ["--holdout", "idx:\(dir.file("none.idx")),\(dir.file("lab.idx"))"]),
                                    mentioning: ["none.idx"])
        SynthProcess.expectBadInput(try SynthProcess.run(base + ["--holdout", "fashion-mnist:test@50", "--membership-model", dir.file("none.safetensors")]),
                                    mentioning: ["none.safetensors"])
        // @~N that leaves nothing; a gate without a holdout.
        SynthProcess.expectBadInput(try SynthProcess.run(base + ["--holdout", "fashion-mnist:test@~10000"]), mentioning: ["@~10000"])
        SynthProcess.expectBadInput(try SynthProcess.run(base + ["--max-leak", "0.5"]), mentioning: ["--max-leak"])
    }
}
