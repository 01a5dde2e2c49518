import Foundation
import PipelineFixtures
import Support
import Testing
import TestSupport

/// ONNX classifiers through the binary, wherever a classifier file is taken (stats, eval, frechet,
/// audit, build's classifier and filter, condition), the bad files DESIGN.md names (one line,
/// exit 2), and 100 classes through a whole CaG build. Models are written at test time by
/// PyTorch (Tests/ONNXTests/onnx_models.py).
@Suite(.enabled(if: Fixtures.fashionAvailable && ReferencePython.available, "needs Fashion-MNIST and SYNTH_PYTHON with torch"))
struct ONNXCommandTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ONNXTests/onnx_models.py").path
    static let fashionNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Exports model `name` as `dir/sub/name.onnx`, with a sidecar naming `classNames` when given.
    static func export(_ name: String, _ dir: ScratchDirectory, sub: String, classNames: [String]? = nil, _ options: [String] = []) throws -> String {
        let code = "import runpy; runpy.run_path('\(script)', run_name='__main__')"
        let out = try #require(ReferencePython.run(code, [name, dir.file(sub)] + options))
        let path = out.trimmingCharacters(in: .whitespacesAndNewlines)
        if let classNames {
            let json = try JSONSerialization.data(withJSONObject: ["class_names": classNames])
            try json.write(to: URL(fileURLWithPath: path + ".json"))
        }
        return path
    }

    static func manifest(_ dir: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Files.join(dir, "manifest.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func models(_ dir: String) throws -> [[String: Any]] {
        ((try manifest(dir)["build"] as? [String: Any])?["models"] as? [[String: Any]]) ?? []
    }

    // MARK: bad input

    @Test func aTruncatedFileIsOneLine() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let good = try Self.export("fashioncnn", dir, sub: "m")
        let bytes = try Files.read(good)
        for cut in [bytes.count / 2, 40] {
            let bad = dir.file("cut\(cut).onnx")
            try Files.writeAtomically(Array(bytes.prefix(cut)), to: bad)
            expectFailure(try SynthProcess.run(["eval", "--model", bad, "--data", "fashion-mnist:test@20"]), mentioning: bad)
        }
    }

    @Test func anUnsupportedOperatorNamesTheNodeAndTheOp() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let m = try Self.export("unsupported", dir, sub: "m", classNames: Self.fashionNames)
        let r = try SynthProcess.run(["eval", "--model", m, "--data", "fashion-mnist:test@20"])
        expectFailure(r, mentioning: "(Abs): operator Abs is not supported")
        #expect(r.stderr.contains(m) && r.stderr.contains("node '"), "\(r.stderr)")
    }

    @Test func anOutputThatIsNotLogitsIsRefused() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let m = try Self.export("featuremap", dir, sub: "m")
        expectFailure(try SynthProcess.run(["eval", "--model", m, "--data", "fashion-mnist:test@20"]),
                      mentioning: "\(m): output 'logits' is [2, 2, 5] for a batch of 2; synth needs logits [N, classes]")
    }

    @Test func aSidecarWhoseClassCountDisagreesIsRefused() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let m = try Self.export("fashioncnn", dir, sub: "m", classNames: ["a", "b", "c"])
        expectFailure(try SynthProcess.run(["eval", "--model", m, "--data", "fashion-mnist:test@20"]),
                      mentioning: "\(m).json: names 3 classes but \(m) outputs 10 logits")
    }

    // MARK: everywhere a classifier goes

    @Test func anONNXModelServesStatsEvalFrechetAuditAndACaGBuild() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let teacher = try Self.export("tiny", dir, sub: "t", classNames: Self.fashionNames, ["--keep-bn"])
        let filter = try Self.export("fashioncnn", dir, sub: "f", classNames: Self.fashionNames)
        let stats = try SynthProcess.run(["stats", "--model", teacher, "--data", "fashion-mnist:test@200"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let statsFile = dir.file("t/tiny.stats.safetensors")
        #expect(FileManager.default.fileExists(atPath: statsFile), "stats writes M.stats.safetensors beside M.onnx")
        let eval = try SynthProcess.run(["eval", "--model", filter, "--data", "fashion-mnist:test@50", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let fr = try SynthProcess.run(["frechet", "--model", teacher, "--real", "fashion-mnist:test@50", "--fake", "fashion-mnist:train@50"])
        #expect(fr.status == 0, "\(fr.stderr)")

        let out = dir.file("out")
        let build = try SynthProcess.run(["build", "--source", "cag", "--classifier", teacher, "--filter", filter,
                                          "--threshold", "0", "--classes", "0,1", "--per-class", "2", "--max-attempts", "16",
                                          "--seed", "5", "--source-option", "reconstructor=false",
                                          "--source-option", "steps_per_stage=2", "--source-option", "batch=4",
                                          "--allow-short", "--name", "onnx", "--out", out])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(!build.stderr.contains("batch-norm prior is off"), "the teacher keeps its batch norms: \(build.stderr)")
        let models = try Self.models(out)
        let byRole = Dictionary(models.map { (($0["role"] as? String) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        for (role, path) in [("classifier", teacher), ("filter", filter), ("statistics", statsFile)] {
            let entry = try #require(byRole[role], "\(role) in \(models)")
            #expect((entry["path"] as? String).map { $0.hasSuffix(URL(fileURLWithPath: path).lastPathComponent) } == true, "\(entry)")
            #expect(entry["sha256"] as? String == (try FileDigest.sha256(ofFile: path)), "\(entry)")
        }
        #expect(try SynthProcess.run(["verify", out]).status == 0)
        // (What a 2-step CaG keeps through a random filter may be nothing: audit a data spec.)
        let audit = try SynthProcess.run(["audit", "fashion-mnist:train@60", "--real", "fashion-mnist:test@100", "--model", filter])
        #expect(audit.status == 0 || audit.status == 1, "\(audit.stderr)")
        #expect(!audit.stderr.contains("onnx:"), "\(audit.stderr)")
    }

    @Test func aModelWithBatchNormFoldedRunsCaGWithThePriorOffAndSaysSo() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let teacher = try Self.export("tiny", dir, sub: "t", classNames: Self.fashionNames)
        let stats = try SynthProcess.run(["stats", "--model", teacher, "--data", "fashion-mnist:test@100"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let out = dir.file("out")
        let build = try SynthProcess.run(["build", "--source", "cag", "--classifier", teacher, "--no-filter",
                                          "--classes", "0,1", "--per-class", "1", "--seed", "5", "--source-option", "reconstructor=false",
                                          "--source-option", "steps_per_stage=1", "--source-option", "batch=2", "--name", "folded", "--out", out])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stderr.contains("\(teacher) has no batch-norm layers") && build.stderr.contains("batch-norm prior is off"), "\(build.stderr)")
        let manifest = try Self.manifest(out)
        #expect(String(describing: manifest).contains("batch_norm_prior"), "the manifest's source settings record the prior is off: \(manifest)")
    }

    // MARK: 100 classes

    /// A 100-class ONNX model with random weights through a whole CaG build: statistics on a
    /// 100-class folder dataset, a 100-class ONNX filter, shards, manifest, report.
    @Test func aHundredClassesGoThroughTheWholePipeline() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let names = (0..<100).map { String(format: "c%03d", $0) }
        let teacher = try Self.export("tiny", dir, sub: "t", classNames: names, ["--keep-bn", "--classes", "100"])
        let filter = try Self.export("fashioncnn", dir, sub: "f", classNames: names, ["--classes", "100"])
        // Two 28x28 grey PNGs per class.
        let folder = dir.file("data")
        let png = """
        import os, sys, random
        from PIL import Image
        random.seed(0)
        for c in sys.argv[2:]:
            os.makedirs(os.path.join(sys.argv[1], c), exist_ok=True)
            for i in range(2):
                Image.frombytes("L", (28, 28), bytes(random.randrange(256) for _ in range(784))).save(os.path.join(sys.argv[1], c, f"{i}.png"))
        """
        try #require(ReferencePython.run(png, [folder] + names) != nil)
        let stats = try SynthProcess.run(["stats", "--model", teacher, "--data", "folder:\(folder)"])
        #expect(stats.status == 0, "\(stats.stderr)")
        let out = dir.file("out")
        let build = try SynthProcess.run(["build", "--source", "cag", "--classifier", teacher, "--filter", filter,
                                          "--threshold", "0", "--classes", "100", "--per-class", "1", "--max-attempts", "8",
                                          "--shard-size", "40", "--seed", "9", "--source-option", "reconstructor=false",
                                          "--source-option", "steps_per_stage=1", "--source-option", "batch=2",
                                          "--allow-short", "--name", "hundred", "--out", out])
        #expect(build.status == 0, "\(build.stderr)")
        let manifest = try Self.manifest(out)
        let classes = manifest["classes"] as? [Any] ?? manifest["class_names"] as? [Any] ?? []
        #expect(String(describing: manifest).contains("c099"), "the manifest names the 100th class")
        _ = classes
        #expect(try SynthProcess.run(["verify", out]).status == 0)
        let report = try SynthProcess.run(["report", out])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(FileManager.default.fileExists(atPath: Files.join(out, "report.md")))
        #expect(try Files.list(out).filter { $0.hasSuffix(".tar") }.count >= 2, "100 samples in shards of 40")
    }
}
