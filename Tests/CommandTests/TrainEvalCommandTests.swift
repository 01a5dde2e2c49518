import Datasets
import Foundation
import Models
import Testing
import PipelineFixtures
import TestSupport

/// `synth train` / `synth eval` from the outside: a real run, and every bad input of the engine
/// issue answered with exit code 2, one line naming the file and the fault, and no output left.
@Suite struct TrainEvalCommandTests {
    /// `synth train` on idx:IMAGES,LABELS (files in dir) must fail as bad input naming `mentioning`,
    /// and write no model.
    static func expectTrainRefuses(images: String, labels: String, in dir: ScratchDirectory, mentioning: [String],
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        let r = try? SynthProcess.run(["train", "--data", "idx:\(dir.file(images)),\(dir.file(labels))", "--epochs", "1",
                                       "--out", dir.file("m.safetensors")])
        guard let r else { Issue.record("synth did not run", sourceLocation: sourceLocation); return }
        SynthProcess.expectBadInput(r, mentioning: mentioning)
        #expect(!dir.exists("m.safetensors"), sourceLocation: sourceLocation)
    }

    @Test func trainThenEvalOnTinyData() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyIDX.write(images: 64, to: dir)
        let spec = "idx:\(dir.file("img.idx")),\(dir.file("lab.idx"))"
        let t = try SynthProcess.run(["train", "--data", spec, "--arch", "ref-cnn", "--steps", "3", "--batch", "16", "--out", dir.file("m.safetensors")])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(dir.exists("m.safetensors"))
        let e = try SynthProcess.run(["eval", "--model", dir.file("m.safetensors"), "--data", spec, "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any]
        #expect((json?["samples"] as? Int) == 64)
        #expect(((json?["accuracy"] as? Double) ?? -1) >= 0)
        #expect(json?["keptShare"] == nil, "no filter report without --threshold")

        // A filter at p > 0 keeps exactly the samples whose top class is their label: its share
        // is the accuracy, overall and per class; a stricter one keeps no more.
        func kept(_ t: String) throws -> [String: Any] {
            let r = try SynthProcess.run(["eval", "--model", dir.file("m.safetensors"), "--data", spec, "--json", "--threshold", t])
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        }
        let loose = try kept("0"), strict = try kept("0.3")
        #expect((loose["keptShare"] as? Double) == (json?["accuracy"] as? Double))
        #expect((loose["perClassKeptShare"] as? [String: Double]) == (json?["perClassAccuracy"] as? [String: Double]))
        #expect((strict["keptShare"] as? Double ?? 2) <= (loose["keptShare"] as? Double ?? -1))
        #expect((strict["filterThreshold"] as? Double) == 0.3)

        let bad = try SynthProcess.run(["eval", "--model", dir.file("m.safetensors"), "--data", spec, "--threshold", "1.5"])
        SynthProcess.expectBadInput(bad, mentioning: ["--threshold"])
    }

    /// Folders named by garment sort "Ankle boot" first; trained and scored against Fashion-MNIST
    /// they are matched to its classes by name, and a folder that is none of them is refused.
    @Test(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
    func garmentFoldersTrainAndEvalInTheTestSetsClasses() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        func folders(_ root: String, _ names: [String]) {
            for (c, name) in names.enumerated() {
                try? FileManager.default.createDirectory(atPath: dir.file("\(root)/\(name)"), withIntermediateDirectories: true)
                for i in 0..<2 {
                    let png = PNG.encode(pixels: [UInt8](repeating: UInt8(40 * c + i), count: 784), width: 28, height: 28, channels: 1)
                    FileManager.default.createFile(atPath: dir.file("\(root)/\(name)/\(i).png"), contents: Data(png))
                }
            }
        }
        folders("garments", ["Trouser", "ankle boot", "T-shirt_top"])
        let model = dir.file("m.safetensors")
        let t = try SynthProcess.run(["train", "--data", "folder:\(dir.file("garments"))", "--test", "fashion-mnist:test@20",
                                      "--steps", "1", "--batch", "4", "--out", model])
        #expect(t.status == 0, "\(t.stderr)")
        let fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        #expect(try ModelFile.loadClassifier(model).card.classNames == fashion)
        let e = try SynthProcess.run(["eval", "--model", model, "--data", "folder:\(dir.file("garments"))", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any]
        #expect(Set((json?["perClassAccuracy"] as? [String: Double] ?? [:]).keys) == ["T-shirt/top", "Trouser", "Ankle boot"])

        folders("pets", ["Trouser", "cat"])
        for args in [["train", "--data", "folder:\(dir.file("pets"))", "--test", "fashion-mnist:test@20", "--steps", "1", "--out", dir.file("p.safetensors")],
                     ["cas", "--train", "folder:\(dir.file("pets"))", "--test", "fashion-mnist:test@20", "--steps", "1"],
                     ["eval", "--model", model, "--data", "folder:\(dir.file("pets"))"]] {
            let r = try SynthProcess.run(args)
            SynthProcess.expectBadInput(r, mentioning: ["folder:\(dir.file("pets"))", "'cat' is not a class of"])
        }
        #expect(!dir.exists("p.safetensors"))
    }

    @Test func missingDataFile() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        Self.expectTrainRefuses(images: "nope.gz", labels: "nope2.gz", in: dir, mentioning: [dir.file("nope.gz")])
    }

    @Test func truncatedGzip() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyIDX.write(images: 32, to: dir)
        // gzip the labels with the system tool, then cut the stream short.
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = ["-k", dir.file("img.idx")]
        try gz.run(); gz.waitUntilExit()
        let whole = try Data(contentsOf: URL(fileURLWithPath: dir.file("img.idx.gz")))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir.file("cut.gz")))
        Self.expectTrainRefuses(images: "cut.gz", labels: "lab.idx", in: dir, mentioning: [dir.file("cut.gz")])
    }

    @Test func wrongIDXMagic() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyIDX.write(images: 32, to: dir)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("img.idx")))
        bytes[2] = 0x0D  // "float" element type: not images of bytes
        try bytes.write(to: URL(fileURLWithPath: dir.file("img.idx")))
        let r = try SynthProcess.run(["eval", "--model", dir.file("m.safetensors"), "--data", "idx:\(dir.file("img.idx")),\(dir.file("lab.idx"))"])
        // The model is missing too; either fault is a one-line exit 2, and the message names a file.
        #expect(r.status == 2 && r.stderrLines.count == 1)
        let t = try SynthProcess.run(["train", "--data", "idx:\(dir.file("img.idx")),\(dir.file("lab.idx"))", "--epochs", "1", "--out", dir.file("m.safetensors")])
        SynthProcess.expectBadInput(t, mentioning: [dir.file("img.idx")])
    }

    @Test func imageLabelCountMismatch() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyIDX.write(images: 32, to: dir, labelCount: 30)
        Self.expectTrainRefuses(images: "img.idx", labels: "lab.idx", in: dir, mentioning: ["32", "30"])
    }

    @Test func checkpointWithTruncatedHeader() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyIDX.write(images: 32, to: dir)
        let spec = "idx:\(dir.file("img.idx")),\(dir.file("lab.idx"))"
        let t = try SynthProcess.run(["train", "--data", spec, "--steps", "1", "--batch", "16", "--out", dir.file("m.safetensors")])
        #expect(t.status == 0, "\(t.stderr)")
        let whole = try Data(contentsOf: URL(fileURLWithPath: dir.file("m.safetensors")))
        try whole.prefix(40).write(to: URL(fileURLWithPath: dir.file("cut.safetensors")))
        let r = try SynthProcess.run(["eval", "--model", dir.file("cut.safetensors"), "--data", spec])
        SynthProcess.expectBadInput(r, mentioning: [dir.file("cut.safetensors")])
    }

    @Test func checkpointWithMismatchedShapes() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyIDX.write(images: 32, side: 28, to: dir)
        let spec = "idx:\(dir.file("img.idx")),\(dir.file("lab.idx"))"
        let t = try SynthProcess.run(["train", "--data", spec, "--steps", "1", "--batch", "16", "--out", dir.file("m.safetensors")])
        #expect(t.status == 0, "\(t.stderr)")
        // Claim a 32 px input in the metadata: f1's weight no longer fits the flattened features.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir.file("m.safetensors")))
        let header = String(decoding: bytes[8..<(8 + Int(bytes[0]) + Int(bytes[1]) << 8)], as: UTF8.self)
        let patched = header.replacingOccurrences(of: "[1,28,28]", with: "[1,32,32]")
        #expect(patched != header && patched.utf8.count == header.utf8.count)
        bytes.replaceSubrange(8..<(8 + header.utf8.count), with: Data(patched.utf8))
        try bytes.write(to: URL(fileURLWithPath: dir.file("bad.safetensors")))
        let r = try SynthProcess.run(["eval", "--model", dir.file("bad.safetensors"), "--data", spec])
        SynthProcess.expectBadInput(r, mentioning: [dir.file("bad.safetensors"), "f1.weight"])
    }

    @Test func unknownArchitecture() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let r = try SynthProcess.run(["train", "--data", "fashion-mnist:train@100", "--arch", "vgg-99", "--epochs", "1", "--out", dir.file("m.safetensors")])
        SynthProcess.expectBadInput(r, mentioning: ["vgg-99"])
        #expect(!dir.exists("m.safetensors"))
    }

    @Test func unwritableOutputFailsBeforeTraining() throws {
        let r = try SynthProcess.run(["train", "--data", "fashion-mnist:train@100", "--epochs", "1", "--out", "/nonexistent-dir/m.safetensors"])
        SynthProcess.expectBadInput(r, mentioning: ["/nonexistent-dir/m.safetensors"])
    }

    @Test func usageErrorsExitTwo() throws {
        let r = try SynthProcess.run(["train", "--epochs", "1"])
        #expect(r.status == 2)
        let h = try SynthProcess.run(["--help"])
        #expect(h.status == 0 && h.stdout.contains("train"))
    }

    /// Every training command takes the same --schedule values and names the wrong one.
    @Test(arguments: [["train", "--data", "fashion-mnist:train@10", "--out", "/tmp/never.safetensors"],
                      ["cas", "--train", "fashion-mnist:train@10"],
                      ["replay-eval", "--buffer", "10"],
                      ["condition", "--generator", "g.safetensors", "--classifier", "c.safetensors", "--out", "/tmp/never.safetensors"]])
    func unknownScheduleIsRefused(command: [String]) throws {
        let r = try SynthProcess.run(command + ["--schedule", "linear"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("linear") && r.stderr.contains("schedule"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
