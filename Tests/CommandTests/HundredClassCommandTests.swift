import Datasets
import Foundation
import Shards
import Support
import Testing
import TestSupport

/// 100 classes with the built-in models, on a CIFAR-100-format file the tests write: a 100-class
/// classifier trained briefly, then CaG and GAN builds of all 100 classes through statistics,
/// filter, shards, manifest, preview, report and cas, the class names (fine_label_names.txt)
/// carried from the data file to the manifest, the shards' .json, the report and the preview.
struct HundredClassCommandTests {
    @Test func hundredClassesThroughThePipeline() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let data = dir.file("cifar-100-binary")
        TinyCIFAR.writeCIFAR100(to: data)
        // The folder that holds cifar-100-binary, as unpacked from the archive, also works.
        let train = "cifar100:\(dir.path)", test = "cifar100:\(data):test"
        let names = TinyCIFAR.cifar100Names

        let teacher = dir.file("teacher.safetensors"), filter = dir.file("filter.safetensors")
        try RGBCommandTests.ok(["train", "--data", train, "--steps", "30", "--batch", "50", "--lr", "3e-3", "--out", teacher, "--test", test])
        try RGBCommandTests.ok(["train", "--data", train, "--steps", "10", "--batch", "50", "--seed", "1", "--out", filter])
        try RGBCommandTests.ok(["stats", "--model", teacher, "--data", train])

        // CaG of every class, judged by the filter: statistics (the per-class batch-norm prior
        // and the distribution loss at 100 classes), filter, shards, manifest.
        let cag = dir.file("cag")
        let r = try SynthProcess.run(["build", "--source", "cag", "--classifier", teacher, "--filter", filter, "--threshold", "0",
                                      "--classes", "100", "--per-class", "1", "--max-attempts", "2", "--seed", "2",
                                      "--source-option", "steps_per_stage=5", "--source-option", "batch=2",
                                      "--source-option", "noise=0", "--source-option", "lr=0.2",
                                      "--source-option", "reconstructor=false", "--source-option", "lambda_bn=0.1",
                                      "--source-option", "lambda_dist=0.1", "--allow-short", "--name", "cag100", "--out", cag])
        #expect(r.status == 0, "\(r.stderr)")
        try #require(r.status == 0)
        // A short build's note counts the classes past the tenth instead of listing 90 of them.
        #expect(r.stderrLines.allSatisfy { $0.count < 1000 }, "\(r.stderr)")
        try RGBCommandTests.ok(["verify", cag])
        let manifest = try Manifest.read(cag + "/manifest.json")
        #expect(manifest.classes == names && manifest.build.classes == Array(0..<100))
        let perClass = try #require(manifest.filter?.classes)
        #expect(perClass.map(\.classIndex) == Array(0..<100), "the filter's statistics cover every class")
        #expect(perClass.allSatisfy { $0.generated >= 1 })
        let samples = try Dataset.load(.shards(dir: cag))
        #expect(samples.classNames == names && samples.channels == 3 && samples.count == manifest.numSamples)
        // The shards' .cls and the class name in each .json agree with the manifest's names.
        for entry in manifest.shardlist {
            let members = try TarReader.members(of: cag + "/" + entry.url)
            for json in members where json.name.hasSuffix(".json") {
                let text = String(decoding: json.bytes, as: UTF8.self)
                let cls = members.first { $0.name == json.name.replacingOccurrences(of: ".json", with: ".cls") }
                let k = Int(String(decoding: cls?.bytes ?? [], as: UTF8.self)) ?? -1
                #expect(k >= 0 && k < 100 && text.contains("\"\(names[k])\""), "\(json.name): class \(k), \(text)")
            }
        }

        // A 100-class GAN, two steps, and a build of every class from it.
        let gan = dir.file("gan.safetensors"), gans = dir.file("gan"), grid = dir.file("gan-grid.png")
        try RGBCommandTests.ok(["train-gan", "--data", train, "--steps", "2", "--batch", "10", "--width", "2", "--d-width", "2",
                                "--z-dim", "8", "--seed", "1", "--out", gan, "--preview", grid])
        // Its grid of 100 rows of 10 wraps into four blocks: (4 * 10 + 3) cells across, 25 down, 1 px gaps.
        let gridHeader = pngHeader(try [UInt8](Data(contentsOf: URL(fileURLWithPath: grid))))
        #expect(gridHeader?.width == 43 * 33 - 1 && gridHeader?.height == 25 * 33 - 1 && gridHeader?.colourType == 2,
                "\(String(describing: gridHeader))")
        try RGBCommandTests.ok(["build", "--source", "gan", "--generator", gan, "--filter", filter, "--threshold", "0",
                                "--classes", "100", "--per-class", "1", "--max-attempts", "2", "--allow-short", "--out", gans])
        try RGBCommandTests.ok(["verify", gans])
        let ganManifest = try Manifest.read(gans + "/manifest.json")
        #expect(ganManifest.classes == names && ganManifest.filter?.classes.count == 100)

        // cas at 100 classes, then the report: one row per class, named, with its thumbnails.
        try RGBCommandTests.ok(["cas", "--train", cag, "--test", test, "--steps", "2", "--batch", "16"])
        try RGBCommandTests.ok(["report", cag])
        let html = try String(contentsOfFile: cag + "/report.html", encoding: .utf8)
        #expect(html.components(separatedBy: "class=\"class-row\"").count - 1 == 100)
        for k in [0, 42, 99] { #expect(html.contains(">\(k) \(names[k])<"), "the row of class \(k) is named") }
        #expect(html.contains("id=\"class-chart\""), "many classes get the per-class chart")
        let md = try String(contentsOfFile: cag + "/report.md", encoding: .utf8)
        #expect(md.components(separatedBy: "\n").filter { $0.hasPrefix("| ") && $0.contains("fine_") }.count == 100)

        // The preview wraps 100 classes into blocks side by side instead of one tall column.
        let full = dir.file("full.png")
        let p = try RGBCommandTests.ok(["preview", "cifar100:\(dir.path)", "--out", full, "--per-row", "4"])
        let header = try #require(pngHeader(try [UInt8](Data(contentsOf: URL(fileURLWithPath: full)))))
        #expect(header.colourType == 2 && header.width > header.height / 2, "\(header.width)x\(header.height)")
        #expect(p.stdout.contains("100 classes") && p.stdout.contains(names[99]), "\(p.stdout)")
    }
}
