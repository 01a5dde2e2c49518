import Datasets
import Foundation
import Shards
import Support
import Testing
import TestSupport

/// RGB 32x32 through the whole command line, on CIFAR-format files the tests write: the readers'
/// bad input, then train (ref-cnn and resnet-s on three channels), stats, train-mae, a CaG build
/// (progressive 8 -> 16 -> 32, reconstruction module, batch-norm prior, distribution loss, blur),
/// train-gan and a GAN build, RGB PNG shards, preview, report, cas, verify and pack.
/// The sizes are tiny: what is checked is that every step runs on 3x32x32 and writes RGB, not
/// what a few steps of training make of the pictures.
struct RGBCommandTests {
    /// Runs synth and records a failure (with stderr) unless it exits 0.
    @discardableResult
    static func ok(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> SynthProcess.Result {
        let r = try SynthProcess.run(args)
        #expect(r.status == 0, "synth \(args.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    /// Every PNG member of a dataset's shards, read with synth's tar reader.
    static func shardPNGs(_ dir: String) throws -> [[UInt8]] {
        let manifest = try Manifest.read(dir + "/manifest.json")
        return try manifest.shardlist.flatMap { entry in
            try TarReader.members(of: dir + "/" + entry.url).filter { $0.name.hasSuffix(".png") }.map(\.bytes)
        }
    }

    static func expectRGBShards(_ dir: String, count: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let pngs = try shardPNGs(dir)
        #expect(!pngs.isEmpty && (count == nil || pngs.count == count), "\(pngs.count) PNG members", sourceLocation: sourceLocation)
        for png in pngs {
            let h = pngHeader(png)
            #expect(h?.width == 32 && h?.height == 32 && h?.depth == 8 && h?.colourType == 2, "IHDR \(String(describing: h))",
                    sourceLocation: sourceLocation)
        }
        let manifest = try Manifest.read(dir + "/manifest.json")
        #expect(manifest.imageShape == [3, 32, 32], sourceLocation: sourceLocation)
    }

    static func manifestJSON(_ dir: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))) as! [String: Any]
    }

    @Test func badCIFARFilesExitTwoNamingTheFile() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyCIFAR.writeCIFAR10(to: dir.path, perBatch: 4, test: 4)
        let spec = "cifar10:\(dir.path)"
        // A truncated record: the last one lacks 100 bytes.
        let batch3 = dir.file("data_batch_3.bin")
        let whole = try [UInt8](Data(contentsOf: URL(fileURLWithPath: batch3)))
        FileManager.default.createFile(atPath: batch3, contents: Data(whole.dropLast(100)))
        SynthProcess.expectBadInput(try SynthProcess.run(["preview", spec, "--out", dir.file("p.png")]), mentioning: [batch3, "3073-byte"])
        // A label outside the ten classes.
        FileManager.default.createFile(atPath: batch3, contents: Data([10] + whole.dropFirst()))
        SynthProcess.expectBadInput(try SynthProcess.run(["train", "--data", spec, "--steps", "1", "--out", dir.file("m.safetensors")]),
                                    mentioning: [batch3, "label 10"])
        // A missing batch.
        try FileManager.default.removeItem(atPath: batch3)
        SynthProcess.expectBadInput(try SynthProcess.run(["train", "--data", spec, "--steps", "1", "--out", dir.file("m.safetensors")]),
                                    mentioning: [batch3])
        SynthProcess.expectBadInput(try SynthProcess.run(["pack", "--data", spec, "--out", dir.file("packed")]), mentioning: [batch3])
        #expect(!dir.exists("packed/manifest.json"))

        let hundred = ScratchDirectory(); defer { hundred.cleanup() }
        TinyCIFAR.writeCIFAR100(to: hundred.path, train: 3, test: 2)
        let train = hundred.file("train.bin")
        // A fine label of 100 (the coarse byte is not the label).
        FileManager.default.createFile(atPath: train, contents: Data([0, 100] + [UInt8](repeating: 0, count: 3072)))
        SynthProcess.expectBadInput(try SynthProcess.run(["preview", "cifar100:\(hundred.path)", "--out", hundred.file("p.png")]),
                                    mentioning: [train, "label 100"])
        // A CIFAR-10 record (one label byte) where CIFAR-100 has two.
        FileManager.default.createFile(atPath: train, contents: Data([UInt8](repeating: 0, count: 3073 * 2)))
        SynthProcess.expectBadInput(try SynthProcess.run(["preview", "cifar100:\(hundred.path)", "--out", hundred.file("p.png")]),
                                    mentioning: [train, "3074-byte"])
        // A names file that does not hold 100 names.
        let names = hundred.file("fine_label_names.txt")
        FileManager.default.createFile(atPath: names, contents: Data("apple\nbanana\n".utf8))
        SynthProcess.expectBadInput(try SynthProcess.run(["preview", "cifar100:\(hundred.path):test", "--out", hundred.file("p.png")]),
                                    mentioning: [names, "100 class names"])
        try FileManager.default.removeItem(atPath: hundred.file("test.bin"))
        try FileManager.default.removeItem(atPath: names)
        SynthProcess.expectBadInput(try SynthProcess.run(["preview", "cifar100:\(hundred.path):test", "--out", hundred.file("p.png")]),
                                    mentioning: [hundred.file("test.bin")])
    }

    @Test func cifar10ThroughTheWholeChain() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let data = dir.file("cifar")
        TinyCIFAR.writeCIFAR10(to: data)
        let train = "cifar10:\(data)", test = "cifar10:\(data):test"

        // Classifiers on three channels: the teacher and the filter (ref-cnn, two seeds), and a
        // resnet-s (a few steps: that it trains and evaluates on RGB is what is checked).
        let teacher = dir.file("teacher.safetensors"), filter = dir.file("filter.safetensors")
        try Self.ok(["train", "--data", train, "--steps", "30", "--batch", "32", "--lr", "3e-3", "--out", teacher, "--test", test])
        try Self.ok(["train", "--data", train, "--steps", "30", "--batch", "32", "--lr", "3e-3", "--seed", "1", "--out", filter])
        let resnet = try Self.ok(["train", "--data", train, "--arch", "resnet-s", "--steps", "3", "--batch", "16", "--out",
                                  dir.file("resnet.safetensors"), "--test", test])
        #expect(resnet.stdout.contains("test accuracy") && resnet.stdout.contains("resnet-s"), "\(resnet.stdout)")
        let stats = try Self.ok(["stats", "--model", teacher, "--data", train])
        #expect(FileManager.default.fileExists(atPath: dir.file("teacher.stats.safetensors")), "\(stats.stdout)")
        let recon = dir.file("recon.safetensors")
        try Self.ok(["train-mae", "--data", train, "--steps", "4", "--batch", "16", "--width", "4", "--out", recon, "--test", test])

        // CaG on three channels (8 -> 16 -> 32) through the reconstruction module, with every
        // prior that touches channels switched on; five steps a stage without noise at a high
        // rate, so that a few samples convince the filter.
        let cag = dir.file("cag")
        let r = try Self.ok(["build", "--source", "cag", "--classifier", teacher, "--reconstructor", recon, "--filter", filter,
                             "--threshold", "0", "--classes", "0,1", "--per-class", "2", "--max-attempts", "8", "--seed", "3",
                             "--source-option", "steps_per_stage=5", "--source-option", "batch=2", "--source-option", "noise=0",
                             "--source-option", "lr=0.2", "--source-option", "lambda_bn=0.1", "--source-option", "lambda_dist=0.1",
                             "--source-option", "blur_sigma=0.5", "--source-option", "jitter=1",
                             "--allow-short", "--name", "cag", "--out", cag])
        try #require(r.status == 0)
        try Self.expectRGBShards(cag)
        let settings = try #require(((try Self.manifestJSON(cag))["build"] as? [String: Any])?["source_settings"] as? [String: Any])
        #expect(settings["progressive"] as? String == "true" && settings["reconstructor"] as? String == "true", "\(settings)")
        try Self.ok(["verify", cag])

        // A GAN at 32x32x3 and a build from it.
        let gan = dir.file("gan.safetensors"), grid = dir.file("gan-grid.png")
        try Self.ok(["train-gan", "--data", train, "--steps", "2", "--batch", "8", "--width", "2", "--d-width", "2", "--z-dim", "8",
                     "--seed", "1", "--out", gan, "--preview", grid])
        #expect(pngHeader(try [UInt8](Data(contentsOf: URL(fileURLWithPath: grid))))?.colourType == 2)
        let ganDir = dir.file("gan")
        try Self.ok(["build", "--source", "gan", "--generator", gan, "--no-filter", "--classes", "0,1,2", "--per-class", "2",
                     "--seed", "4", "--out", ganDir])
        try Self.expectRGBShards(ganDir, count: 6)
        try Self.ok(["verify", ganDir])

        // pack of the CIFAR files, then what Python reads of the shards.
        let packed = dir.file("packed")
        try Self.ok(["pack", "--data", test, "--shard-size", "20", "--out", packed])
        try Self.expectRGBShards(packed, count: 50)
        try Self.ok(["verify", packed])
        let real = try Dataset.load(spec: test)
        let back = try Dataset.load(spec: "shards:\(packed)")
        #expect(back.pixels == real.pixels && back.labels == real.labels && back.classNames == real.classNames)
        try Self.expectPythonReadsRGB([cag, ganDir, packed])

        // preview, cas (which rewrites the report) and report.
        let preview = dir.file("preview.png")
        try Self.ok(["preview", ganDir, "--out", preview, "--per-row", "2"])
        let header = pngHeader(try [UInt8](Data(contentsOf: URL(fileURLWithPath: preview))))
        #expect(header?.colourType == 2 && header?.width == 2 + 2 * 32 + 2 + 2 && header?.height == 2 + 3 * 32 + 2 * 2 + 2,
                "\(String(describing: header))")
        try Self.ok(["cas", "--train", ganDir, "--test", test, "--steps", "3", "--batch", "8"])
        try Self.ok(["report", ganDir])
        let html = try String(contentsOfFile: ganDir + "/report.html", encoding: .utf8)
        let thumbnails = Self.embeddedPNGs(html)
        #expect(thumbnails.count >= 3 && thumbnails.allSatisfy { pngHeader($0)?.colourType == 2 }, "\(thumbnails.count) thumbnails")
        #expect(html.contains("automobile") && html.contains("3x32x32"))
    }

    /// README's "RGB and CIFAR" commands run as written on a CIFAR-format folder, shrunk only in
    /// their lengths: epochs become 20 steps, builds aim at one sample a class (short allowed), CaG
    /// takes one step a stage, the GAN and cas a few steps. Each line's flags, specs and paths are
    /// the README's.
    @Test func readmeCIFARCommandsRun() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        TinyCIFAR.writeCIFAR10(to: dir.file("cifar-10-batches-bin"), perBatch: 20, test: 20)
        let readme = try String(contentsOfFile: ExamplesTests.root + "/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "    D=cifar-10-batches-bin\n"), "README lost its CIFAR block")
        let block = String(readme[start.lowerBound...]).components(separatedBy: "\n\n")[0]
        var lines = block.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.count >= 10 && lines.dropFirst().allSatisfy { $0.hasPrefix("synth ") }, "\(lines)")
        lines = lines.map { line in
            var l = line.replacing(#/--epochs [0-9]+/#, with: "--steps 20 --batch 32")
                .replacing(#/--per-class [0-9]+/#, with: "--per-class 1 --max-attempts 20 --allow-short")
            if l.hasPrefix("synth build --source cag") { l += " --source-option steps_per_stage=1 --source-option batch=2" }
            if l.hasPrefix("synth train-gan") { l += " --steps 2 --batch 8 --width 2 --d-width 2 --z-dim 8" }
            if l.hasPrefix("synth cas") { l += " --steps 2 --batch 8" }
            return l
        }
        let r = try ExamplesTests.bash(["-e", "-c", lines.joined(separator: "\n")], environment: [:], in: dir.path)
        #expect(r.status == 0, "\(r.stderr)")
        // The builds' few steps may keep no sample (short builds are allowed): their shape is checked.
        for out in ["data/cifar-cag", "data/cifar-gan", "data/cifar10-test"] {
            try Self.ok(["verify", dir.file(out)])
            #expect(try Manifest.read(dir.file(out) + "/manifest.json").imageShape == [3, 32, 32])
        }
        try Self.expectRGBShards(dir.file("data/cifar10-test"), count: 20)
        #expect(dir.exists("cifar-gan-preview.png") && dir.exists("cifar-teacher.stats.safetensors"))
    }

    /// webdataset with PIL decodes every .png member as an RGB image, the same pixels synth wrote.
    static func expectPythonReadsRGB(_ dirs: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard ReferencePython.available else { return }
        var expected: [String] = []
        for d in dirs {
            let data = try Dataset.load(.shards(dir: d))
            expected.append((0..<data.count).map { FileDigest.of(Array(data.image($0))).sha256 }.joined(separator: ","))
        }
        let script = """
        import sys, os, json, hashlib, numpy as np
        import webdataset as wds
        for d, want in zip(sys.argv[1::2], sys.argv[2::2]):
            m = json.load(open(os.path.join(d, "manifest.json")))
            urls = [os.path.join(d, s["url"]) for s in m["shardlist"]]
            got = []
            for s in wds.WebDataset(urls, shardshuffle=False).decode("pil"):
                img = s["png"]
                assert img.mode == "RGB" and img.size == (32, 32), (d, img.mode, img.size)
                got.append(hashlib.sha256(np.asarray(img).transpose(2, 0, 1).tobytes()).hexdigest())
            assert got == want.split(","), (d, "pixels differ")
            print(os.path.basename(d), len(got))
        """
        let out = ReferencePython.run(script, zip(dirs, expected).flatMap { [$0, $1] }, sourceLocation: sourceLocation)
        #expect(out?.split(separator: "\n").count == dirs.count, "\(out ?? "")", sourceLocation: sourceLocation)
    }

    /// The PNGs a report embeds as data: URIs.
    static func embeddedPNGs(_ html: String) -> [[UInt8]] {
        html.components(separatedBy: "data:image/png;base64,").dropFirst().compactMap { part in
            Data(base64Encoded: String(part.prefix { $0 != "\"" })).map { [UInt8]($0) }
        }
    }
}
