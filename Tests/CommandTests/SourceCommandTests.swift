import Foundation
import PipelineFixtures
import Shards
import Support
import Synth
import Testing
import TestSupport

/// `synth build` with each generation source, end to end through the binary, on tiny models:
/// the source plugs into filter, shards and manifest; model roles are recorded; bad model files
/// and impossible requests are refused with one line and leave nothing behind.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct SourceCommandTests {
    static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// A small, untrained generator at 28 px (conditional or not), with standing statistics.
    static func generator(_ path: String, conditional: Bool = true, seed: UInt64) throws {
        let config = GANConfig(channels: 1, height: 28, width: 28, classNames: classNames, conditional: conditional,
                               block: .concat, zDim: 8, generatorWidth: 2, discriminatorWidth: 2)
        var rng = RNG(seed: seed)
        let g = ResGANGenerator(config, rng: &rng)
        g.recomputeStatistics(batches: 1, batchSize: 8, seed: seed)
        try GANFile.save(g, to: path)
    }

    static func manifest(_ dir: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Files.join(dir, "manifest.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func modelRoles(_ dir: String) throws -> [String] {
        let m = try manifest(dir)
        let models = (m["build"] as? [String: Any])?["models"] as? [[String: Any]] ?? []
        return models.compactMap { $0["role"] as? String }
    }

    @Test func cagBuildsVerifiesAndRecordsItsModels() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let classifier = try Fixtures.classifier(seed: 1), filter = try Fixtures.classifier(seed: 2)
        let recon = dir.file("recon.safetensors")
        try ReconstructorFile.save(try Reconstructor(card: Reconstructor.card(channels: 1, height: 28, width: 28, hiddenWidth: 4), seed: 3), to: recon)
        // The inverted classifier's statistics, through the command users run.
        let c = dir.file("c.safetensors")
        try FileManager.default.copyItem(atPath: classifier, toPath: c)
        let stats = try SynthProcess.run(["stats", "--model", c, "--data", "fashion-mnist:test@200"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let args = ["build", "--source", "cag", "--classifier", c, "--reconstructor", recon, "--filter", filter,
                    "--threshold", "0", "--classes", "0,1", "--per-class", "2", "--max-attempts", "16", "--seed", "5",
                    "--source-option", "steps_per_stage=2", "--source-option", "batch=4", "--source-option", "lambda_bn=0.1",
                    // What a 2-step CaG makes of the fixture is not what is tested: a short build is fine.
                    "--allow-short", "--name", "cag", "--out", dir.file("out")]
        let r = try SynthProcess.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try SynthProcess.run(["verify", dir.file("out")]).status == 0)
        let roles = try Self.modelRoles(dir.file("out"))
        #expect(roles.contains("classifier") && roles.contains("reconstructor") && roles.contains("statistics") && roles.contains("filter"), "\(roles)")

        // The filter may not be the classifier CaG inverts.
        var same = args
        same[same.firstIndex(of: "--filter")! + 1] = c
        same[same.firstIndex(of: "--out")! + 1] = dir.file("same")
        expectFailure(try SynthProcess.run(same), mentioning: "the filter must be another model")
        #expect(!dir.exists("same/manifest.json"))
    }

    @Test func cagRefusesMoreClassesThanTheClassifierKnows() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let c = try Fixtures.classifier(seed: 1)
        let r = try SynthProcess.run(["build", "--source", "cag", "--classifier", c, "--source-option", "reconstructor=false",
                                      "--source-option", "lambda_bn=0", "--no-filter", "--classes", "100", "--per-class", "1", "--out", dir.file("out")])
        SynthProcess.expectBadInput(r, mentioning: [c, "10 classes"])
        #expect(!dir.exists("out"))
        let bad = try SynthProcess.run(["build", "--source", "cag", "--classifier", c, "--source-option", "lambda_div=abc",
                                        "--no-filter", "--per-class", "1", "--out", dir.file("out2")])
        SynthProcess.expectBadInput(bad, mentioning: ["lambda_div=abc"])
    }

    @Test func ganFromSeveralGeneratorsAndFromALatentConditionedOne() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let g1 = dir.file("g1.safetensors"), g2 = dir.file("g2.safetensors"), u = dir.file("u.safetensors")
        try Self.generator(g1, seed: 1); try Self.generator(g2, seed: 2); try Self.generator(u, conditional: false, seed: 3)
        let args = ["build", "--source", "gan", "--generator", g1, g2, "--no-filter", "--classes", "0,1,2",
                    "--per-class", "4", "--seed", "9", "--name", "g", "--out"]
        let a = try SynthProcess.run(args + [dir.file("a"), "--verbose"])
        #expect(a.status == 0, "\(a.stderr)")
        #expect(a.stderr.contains("samples") && a.stderr.contains("pass"), "--verbose reports progress in a pipe: \(a.stderr)")
        #expect(try SynthProcess.run(["verify", dir.file("a")]).status == 0)
        #expect(try Self.modelRoles(dir.file("a")) == ["generator", "generator"])
        // Same seed, same bytes.
        #expect(try SynthProcess.run(args + [dir.file("b")]).status == 0)
        #expect(try directoryHashes(dir.file("a")) == directoryHashes(dir.file("b")))

        // An unconditional generator cannot serve --source gan; a flag gan ignores is refused.
        SynthProcess.expectBadInput(try SynthProcess.run(["build", "--source", "gan", "--generator", u, "--no-filter", "--per-class", "1", "--out", dir.file("c")]),
                                    mentioning: [u, "unconditional"])
        SynthProcess.expectBadInput(try SynthProcess.run(["build", "--source", "gan", "--generator", g1, "--classifier", g2,
                                                          "--no-filter", "--per-class", "1", "--out", dir.file("d")]), mentioning: ["--classifier"])
        #expect(!dir.exists("c") && !dir.exists("d"))

        // Sampling settings: recorded in the build record when given; a wrong key or value is refused.
        let mixed = try SynthProcess.run(args + [dir.file("mix"), "--source-option", "class_mix=0.5",
                                                 "--source-option", "latent_scale=1.2"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        let record = try Manifest.read(dir.file("mix/manifest.json")).build
        #expect(record.sourceSettings["class_mix"] == "0.5" && record.sourceSettings["latent_scale"] == "1.2")
        // Blends keep to the build's classes, and the record says which they are.
        #expect(record.sourceSettings["class_mix_classes"] == "0,1,2")
        let mixedHashes = try directoryHashes(dir.file("mix")), plainHashes = try directoryHashes(dir.file("a"))
        #expect(mixedHashes != plainHashes)
        SynthProcess.expectBadInput(try SynthProcess.run(args + [dir.file("e"), "--source-option", "class_mix=2"]), mentioning: ["class_mix=2"])
        SynthProcess.expectBadInput(try SynthProcess.run(args + [dir.file("f"), "--source-option", "noise=0.3"]), mentioning: ["noise"])
        #expect(!dir.exists("e") && !dir.exists("f"))

        // gan-latent: the unconditional generator steered by an input generator.
        var rng = RNG(seed: 4)
        let ig = InputGenerator(classNames: Self.classNames, zDim: 8, hidden: 6, rng: &rng)
        try ig.save(to: dir.file("ig.safetensors"), imageShape: [1, 28, 28])
        let l = try SynthProcess.run(["build", "--source", "gan-latent", "--generator", u, "--input-generator", dir.file("ig.safetensors"),
                                      "--no-filter", "--classes", "0,1", "--per-class", "3", "--out", dir.file("latent")])
        #expect(l.status == 0, "\(l.stderr)")
        #expect(try Self.modelRoles(dir.file("latent")) == ["generator", "input-generator"])
        #expect(try SynthProcess.run(["verify", dir.file("latent")]).status == 0)
    }

    /// The models scripts/make-gan-models ships, in the checkout's models/.
    static let shippedModels = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models").path
    static let shippedGANs = (1...4).map { "\(shippedModels)/gan-concat-s\($0).safetensors" }
    static let shippedLatent = ["\(shippedModels)/gan-uncond-s1.safetensors", "\(shippedModels)/gan-uncond-s1-input.safetensors"]
    static func exist(_ files: [String]) -> Bool { files.allSatisfy { FileManager.default.fileExists(atPath: $0) } }

    static let shippedCaG = ["teacher-ref-cnn.safetensors", "teacher-ref-cnn.stats.safetensors", "cag-ref-recon.safetensors",
                             "filter-ref-cnn.safetensors"].map { "\(shippedModels)/\($0)" }

    /// With no model flags, cag inverts the shipped teacher through the shipped reconstructor and
    /// is judged by its own default filter, the second ref-cnn (not the GANs' resnet-s), whose
    /// probabilities are its soft labels (no label models: the ensemble's hurt CaG).
    @Test(.enabled(if: exist(shippedCaG), "needs the models scripts/make-models ships"))
    func cagUsesTheShippedModels() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let out = dir.file("cag")
        let r = try SynthProcess.run(["build", "--source", "cag", "--classes", "10", "--per-class", "1", "--seed", "0",
                                      "--source-option", "steps_per_stage=2", "--source-option", "batch=2", "--allow-short", "--out", out],
                                     environment: ["SYNTH_MODELS_DIR": Self.shippedModels])
        #expect(r.status == 0, "\(r.stderr)")
        let models = ((try Self.manifest(out))["build"] as? [String: Any])?["models"] as? [[String: Any]] ?? []
        let used = Set(models.map { (($0["path"] as? String).map { ($0 as NSString).lastPathComponent } ?? "") + ":" + ($0["role"] as? String ?? "") })
        #expect(used == ["teacher-ref-cnn.safetensors:classifier", "teacher-ref-cnn.stats.safetensors:statistics",
                         "cag-ref-recon.safetensors:reconstructor", "filter-ref-cnn.safetensors:filter"], "\(used)")
        #expect((try Self.manifest(out))["build"].flatMap { ($0 as? [String: Any])?["label_models"] } == nil)
    }

    /// With no model flags, gan draws from the four shipped concat GANs and gan-latent uses the
    /// shipped unconditional GAN and its input generator; the default filter judges both and the
    /// default ensemble labels both.
    @Test(.enabled(if: exist(shippedGANs + shippedLatent), "needs the GANs scripts/make-gan-models ships"))
    func ganSourcesUseTheShippedModels() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        for source in ["gan", "gan-latent"] {
            let out = dir.file(source)
            let r = try SynthProcess.run(["build", "--source", source, "--classes", "10", "--per-class", "2", "--seed", "0", "--out", out],
                                         environment: ["SYNTH_MODELS_DIR": Self.shippedModels])
            #expect(r.status == 0, "\(source): \(r.stderr)")
            let models = ((try Self.manifest(out))["build"] as? [String: Any])?["models"] as? [[String: Any]] ?? []
            let used = models.map { (($0["path"] as? String).map { ($0 as NSString).lastPathComponent } ?? "", $0["role"] as? String ?? "") }
            let expected = source == "gan" ? Self.shippedGANs : Self.shippedLatent
            for file in expected.map({ ($0 as NSString).lastPathComponent }) {
                #expect(used.contains { $0.0 == file }, "\(source) did not use \(file): \(used)")
            }
            #expect(used.contains { $0 == ("filter-resnet-s.safetensors", "filter") }, "\(used)")
            #expect(used.filter { $0.1 == "label" }.map(\.0) == BuildOutcomeTests.defaultLabelFiles, "\(used)")
            // gan blends classes by default and filters at 0.5; gan-latent draws plainly at 0.9.
            let record = try Manifest.read(Files.join(out, "manifest.json")).build
            #expect(record.threshold == (source == "gan" ? 0.5 : 0.9))
            #expect(record.sourceSettings["class_mix"] == (source == "gan" ? "0.5" : nil), "\(record.sourceSettings)")
            #expect(record.sourceOptions.isEmpty, "defaults are not options given: \(record.sourceOptions)")
            #expect(try SynthProcess.run(["verify", out]).status == 0)
        }
        // Given, the settings win: plain draws filtered at 0.9.
        let plain = dir.file("gan-plain")
        let r = try SynthProcess.run(["build", "--source", "gan", "--classes", "10", "--per-class", "2", "--seed", "0",
                                      "--source-option", "class_mix=0", "--threshold", "0.9", "--out", plain],
                                     environment: ["SYNTH_MODELS_DIR": Self.shippedModels])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try Manifest.read(Files.join(plain, "manifest.json")).build
        #expect(record.threshold == 0.9 && record.sourceSettings["class_mix"] == nil, "\(record.sourceSettings)")
    }
}

