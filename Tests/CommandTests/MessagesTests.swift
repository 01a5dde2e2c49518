import Foundation
import PipelineFixtures
import Support
@testable import SynthCommand
import Testing
import TestSupport

/// What the command line says (issue 13): flags with bad numbers, unwritable outputs, Ctrl-C
/// during a build, plurals, rates of slow sources, and CAS of a set of some classes.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct MessagesTests {
    static func buildArgs(_ out: String, perClass: Int = 4, shardSize: Int = 5) -> [String] {
        ["build", "--source", "replay:fashion-mnist:test@300", "--classes", "0,1,7", "--per-class", String(perClass),
         "--shard-size", String(shardSize), "--no-filter", "--seed", "3", "--name", "ds", "--out", out]
    }

    @Test func aNegativeNumberNamesItsFlag() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var args = Self.buildArgs(dir.file("ds"))
        args[args.firstIndex(of: "--per-class")! + 1] = "-5"
        let r = try SynthProcess.run(args)
        expectFailure(r, mentioning: "--per-class -5: must be positive")
        #expect(!r.stderr.contains("Missing value"), "\(r.stderr)")
        args[args.firstIndex(of: "--per-class")! + 1] = "4"
        args[args.firstIndex(of: "--shard-size")! + 1] = "-1"
        expectFailure(try SynthProcess.run(args), mentioning: "--shard-size -1: must be positive")
        expectFailure(try SynthProcess.run(["cas", "--train", "fashion-mnist:test@10", "--steps", "-3"]), mentioning: "--steps")
        #expect(!dir.exists("ds"), "nothing is created for bad input")
    }

    @Test func aBadAugmentationAndOneChangedOnResumeAreRefused() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let base = ["train-gan", "--data", "fashion-mnist:train@64", "--steps", "1", "--batch", "8", "--width", "2", "--d-width", "2",
                    "--z-dim", "4", "--out", dir.file("g.safetensors")]
        expectFailure(try SynthProcess.run(base + ["--augment", "flip"]), mentioning: "--augment 'flip': expected none, or a comma list of color, translation, cutout")
        expectFailure(try SynthProcess.run(base + ["--augment", "translation,"]), mentioning: "--augment 'translation,'")
        let resumed = try SynthProcess.run(["train-gan", "--data", "fashion-mnist:train@64", "--resume", dir.file("c.safetensors"),
                                            "--augment", "cutout", "--out", dir.file("g.safetensors")])
        expectFailure(resumed, mentioning: "--augment comes from the checkpoint when resuming")
        #expect(!dir.exists("g.safetensors"))
    }

    @Test func anOutputThatCannotBeCreatedNamesThePathAndTheReason() throws {
        // What mkdir says on this machine, so the test does not assume a kernel's errno.
        guard mkdir("/proc/synth-test", 0o755) != 0 else {
            rmdir("/proc/synth-test")
            return
        }
        let reason = Files.describe(errno: errno)
        let r = try SynthProcess.run(Self.buildArgs("/proc/synth-test"))
        expectFailure(r, mentioning: "/proc/synth-test: cannot create the directory: \(reason)")
        #expect(!r.stderr.contains("could not be completed"), "\(r.stderr)")
        let nested = try SynthProcess.run(Self.buildArgs("/proc/synth-test/a/b"))
        expectFailure(nested, mentioning: "/proc/synth-test/a/b: cannot create the directory /proc/synth-test: \(reason)")
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let grid = try SynthProcess.run(["preview", "fashion-mnist:test@10", "--out", "/proc/synth-test.png"])
        expectFailure(grid, mentioning: "/proc/")
        #expect(!grid.stderr.contains("could not be completed"), "\(grid.stderr)")
    }

    /// Ctrl-C during a build: exit 130, the exact command that resumes on stderr, nothing that
    /// looks complete and is not; that command then ends byte-identical to an uninterrupted build.
    @Test func interruptingABuildPrintsTheResumeCommandAndResumeFinishesIt() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let binary = try #require(SynthProcess.binary)
        // 200 shards of 6 samples: long enough to be interrupted after its first shard.
        let args = Self.buildArgs(dir.file("ds"), perClass: 400, shardSize: 6)
        let full = try SynthProcess.run(Self.buildArgs(dir.file("full"), perClass: 400, shardSize: 6))
        #expect(full.status == 0, "\(full.stderr)")
        let reference = try directoryHashes(dir.file("full"))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let stderr = drain(err)
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && !dir.exists("ds/ds-000000.tar") && Date() < deadline { usleep(2000) }
        #expect(process.isRunning, "the build ended before it could be interrupted")
        process.interrupt()
        process.waitUntilExit()
        stderr.wait()
        let text = String(decoding: stderr.data, as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "status \(process.terminationStatus): \(text)")
        let command = ([binary] + args + ["--resume"]).joined(separator: " ")
        #expect(text == "synth: interrupted: the complete shards are kept; to finish, run: \(command)\n", "\(text)")

        let left = try directoryHashes(dir.file("ds"))
        #expect(left["manifest.json"] == nil)
        for (file, hash) in left where file.hasSuffix(".tar") && !file.hasPrefix(".") {
            #expect(reference[file] == hash, "\(file) looks complete and is not the uninterrupted build's")
        }
        let resumed = try SynthProcess.run(args + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try directoryHashes(dir.file("ds")) == reference)
    }

    @Test func countsAgreeWithTheirNouns() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let r = try SynthProcess.run(Self.buildArgs(dir.file("ds"), perClass: 1))
        #expect(r.status == 0 && r.stdout.contains("3 of 3 planned samples in 1 shard (1 built, 0 kept)"), "\(r.stdout) \(r.stderr)")
        let v = try SynthProcess.run(["verify", dir.file("ds")])
        #expect(v.status == 0 && v.stdout.contains(": 1 shard, 3 samples, "), "\(v.stdout)")
        #expect(!(r.stdout + v.stdout).contains("1 shards"))
        let p = try SynthProcess.run(["pack", "--data", "fashion-mnist:test@1", "--out", dir.file("p")])
        #expect(p.status == 0 && p.stdout.contains("1 sample in 1 shard"), "\(p.stdout) \(p.stderr)")
    }

    @Test func ratesStayMeaningfulForSlowSources() {
        #expect(ProgressLine.rate(0, "sample", in: 12) == "-- samples/s")
        #expect(ProgressLine.rate(250, "sample", in: 10) == "25 samples/s")
        #expect(ProgressLine.rate(24, "sample", in: 10) == "2.4 samples/s")
        // A CaG sample takes seconds: "0/s" said nothing.
        #expect(ProgressLine.rate(3, "sample", in: 11.1) == "3.7 s/sample")
    }

    /// A set of 3 classes scored on a test set of 10: said on stderr, and scored on the trained
    /// classes' test samples too (the overall accuracy counts the others as errors).
    @Test func casOfSomeClassesSaysSoAndScoresTheTrainedClassesToo() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        #expect(try SynthProcess.run(Self.buildArgs(dir.file("ds"))).status == 0)
        let r = try SynthProcess.run(["cas", "--train", dir.file("ds"), "--test", "fashion-mnist:test@100", "--steps", "2",
                                      "--batch", "8", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("holds 3 of the 10 classes of fashion-mnist:test@100 (T-shirt/top, Trouser, Sneaker)"), "\(r.stderr)")
        #expect(r.stderr.contains("the 70 samples of untrained classes count as errors"), "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(json["trained_classes"] as? [Int] == [0, 1, 7] && json["trained_classes_test_samples"] as? Int == 30)
        // The trained classes' accuracy is their per-class accuracies weighted by samples; the
        // overall accuracy is the same hits over all 100.
        let perClass = json["per_class"] as! [[String: Any]]
        let hits = perClass.filter { [0, 1, 7].contains($0["class"] as! Int) }
            .reduce(0.0) { $0 + ($1["accuracy"] as! Double) * Double($1["samples"] as! Int) }
        let trained = try #require(json["trained_classes_accuracy"] as? Double)
        #expect(abs(trained - hits / 30) < 1e-9)
        // Stored with the dataset: its report gives both figures.
        let md = try String(contentsOfFile: dir.file("ds/report.md"), encoding: .utf8)
        #expect(md.contains("over the test samples of its 3 classes"), "\(md)")
        #expect(abs((json["accuracy"] as! Double) * 100 - (hits + perClass.filter { ![0, 1, 7].contains($0["class"] as! Int) }
            .reduce(0.0) { $0 + ($1["accuracy"] as! Double) * Double($1["samples"] as! Int) })) < 1e-6)
    }
}
