import Foundation
import PipelineFixtures
import Shards
import Testing
import TestSupport

/// Datasets built before seeds became JSON strings hold them as plain integers, in every sample's
/// json and in the manifest's build record. synth still reads them: verify passes and training
/// takes their soft labels.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct OlderFormatTests {
    /// `"seed":"123"` -> `"seed":123` (and the pretty manifest's `"seed" : "123"`).
    static func integerSeeds(_ text: String) -> String {
        text.replacingOccurrences(of: #""seed"( ?: ?)"([0-9]+)""#, with: #""seed"$1$2"#, options: .regularExpression)
    }

    @Test func integerSeedsOfOlderDatasetsStillVerifyAndTrain() throws {
        let base = try BuildCommandTests.baseline.get()
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var manifest = try Manifest.read(base.dir + "/manifest.json")
        var rewritten = 0
        for (s, entry) in manifest.shardlist.enumerated() {
            let writer = try TarWriter(path: dir.file(entry.url))
            for m in try TarReader.members(of: base.dir + "/" + entry.url) {
                guard m.name.hasSuffix(".json") else { try writer.add(name: m.name, bytes: m.bytes); continue }
                let old = Self.integerSeeds(String(decoding: m.bytes, as: UTF8.self))
                #expect(old.range(of: #""seed":[0-9]+,"#, options: .regularExpression) != nil, "\(old)")
                try writer.add(name: m.name, bytes: Array(old.utf8))
                rewritten += 1
            }
            let digest = try writer.finish()
            manifest.shardlist[s].filesize = digest.size; manifest.shardlist[s].md5sum = digest.md5; manifest.shardlist[s].sha256 = digest.sha256
        }
        #expect(rewritten == manifest.numSamples)
        let text = Self.integerSeeds(String(decoding: manifest.encoded(), as: UTF8.self))
        #expect(text.contains(#""seed" : 11"#), "the build record's seed as an integer")
        try Data(text.utf8).write(to: URL(fileURLWithPath: dir.file("manifest.json")))

        let verified = try SynthProcess.run(["verify", dir.path])
        #expect(verified.status == 0, "\(verified.stderr)")
        let trained = try SynthProcess.run(["train", "--data", "shards:\(dir.path)", "--arch", "ref-cnn", "--steps", "1", "--batch", "8",
                                            "--soft", "--out", dir.file("m.safetensors")])
        #expect(trained.status == 0, "\(trained.stderr)")
    }
}
