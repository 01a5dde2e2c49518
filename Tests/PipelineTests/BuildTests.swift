import Datasets
import Engine
import Filter
import Foundation
import Models
import Pipeline
import PipelineFixtures
import Report
import Shards
import Support
import Synth
import Testing
import TestSupport

/// In-process builds from the replay source (real Fashion-MNIST test images drawn by seed).
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct BuildTests {
    static func options(_ out: String, filter: String?, seed: UInt64 = 7) -> BuildOptions {
        var o = BuildOptions(source: "replay:fashion-mnist:test", perClass: 10, out: out)
        o.classes = "0,Trouser,7"
        o.shardSize = 8
        o.seed = seed
        o.threshold = 0.2
        o.name = "ds"
        if let filter { o.filters = [filter] } else { o.noFilter = true }
        return o
    }

    @discardableResult
    static func build(_ o: BuildOptions) throws -> BuildSummary {
        try BuildRunner(options: o, toolVersion: "synth test").run()
    }

    @Test func filteredBuildIsDeterministicVerifiesAndLoads() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier()
        let a = try Self.build(Self.options(dir.file("a"), filter: filter))
        try Self.build(Self.options(dir.file("b"), filter: filter))
        var c = Self.options(dir.file("c"), filter: filter)
        c.seed = 8
        try Self.build(c)
        let ha = try directoryHashes(dir.file("a")), hb = try directoryHashes(dir.file("b"))
        #expect(ha == hb, "same seed, same bytes (manifest included)")
        #expect(Set(ha.keys) == Set((0..<4).map { ShardFiles.shard("ds", $0) } + ["manifest.json"]), "no leftovers: \(ha.keys.sorted())")
        #expect(try directoryHashes(dir.file("c"))["a-000000.tar"] != ha["ds-000000.tar"])

        let m = a.manifest
        #expect(m.build.classes == [0, 1, 7] && m.build.plannedSamples == 30 && m.shardlist.count == 4)
        #expect(m.filter?.enabled == true && m.filter?.threshold == 0.2)
        for st in m.filter!.classes {
            #expect(st.generated == st.accepted + st.surplus + st.rejectedWrongClass + st.rejectedLowConfidence)
            #expect(st.confidenceHistogram.reduce(0, +) == st.accepted)
            #expect(st.confidenceHistogram[0..<4].reduce(0, +) == 0, "nothing at or below 0.2 is accepted")
        }
        // Which classes the tiny filter accepts depends on its floats; that it accepts something does not.
        #expect(m.numSamples > 0 && m.numSamples == m.filter!.classes.map(\.accepted).reduce(0, +))
        #expect(m.build.models.map(\.role) == ["filter"] && m.build.models[0].sha256.count == 64)

        let report = try ShardVerifier.verify(dir: dir.file("a"))
        #expect(report.samples == m.numSamples)

        let data = try Dataset.load(spec: "shards:\(dir.file("a"))")
        #expect(data.count == m.numSamples && data.classNames.count == 10)
        #expect(Set(data.labels).isSubset(of: [0, 1, 7]))
        let soft = try #require(data.softLabels)
        #expect(soft.count == data.count * 10)
        for i in 0..<data.count {
            let row = soft[(i * 10)..<(i * 10 + 10)]
            #expect(row.max() == row[row.startIndex + data.labels[i]])
        }
        // The stored pixels are what the filter judged: re-judging the loaded images agrees.
        let f = try ConfidenceFilter(classifiers: [try ModelFile.loadClassifier(filter)], names: [filter], threshold: 0.2)
        // Up to rounding: the build judged its candidates in rounds, this judges them in one batch,
        // and GEMMs of other shapes may round the last bits differently on some OpenBLAS kernels.
        let probs = try data.pixels.withUnsafeBufferPointer { try f.probabilities($0, count: data.count) }
        #expect(probs.count == soft.count)
        let worst = zip(probs, soft).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5, "re-judged probabilities differ from the stored ones by \(worst)")
    }

    @Test func workersAndMergeMatchOneProcess() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier()
        let single = Self.options(dir.file("one/ds"), filter: filter)
        try Self.build(single)
        for w in [2, 0, 1] {
            var o = Self.options(dir.file("many/ds"), filter: filter)
            o.workers = 3
            o.worker = w
            let s = try Self.build(o)
            #expect(s.manifest.part == PartInfo(worker: w, workers: 3))
        }
        #expect(throws: SynthError.self) { try ShardVerifier.verify(dir: dir.file("many/ds")) }
        let merged = try ShardMerge.merge(dir: dir.file("many/ds"))
        #expect(merged.merged)
        #expect(try directoryHashes(dir.file("many/ds")) == directoryHashes(dir.file("one/ds")))
        #expect(try ShardMerge.merge(dir: dir.file("many/ds")).merged == false)
    }

    @Test func mergeRefusesMissingOrForeignParts() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var o = Self.options(dir.file("ds"), filter: nil)
        o.workers = 2
        o.worker = 0
        try Self.build(o)
        expectSynthError(mentioning: "manifest.part-1-of-2.json") { _ = try ShardMerge.merge(dir: dir.file("ds")) }
        // A worker of another build (other seed) is refused before it writes anything.
        var other = o
        other.worker = 1
        other.seed = 99
        expectSynthError(mentioning: "manifest.part-0-of-2.json") { try Self.build(other) }
        o.worker = 1
        try Self.build(o)
        // A damaged shard is caught by merge.
        let shard = dir.file("ds/ds-000001.tar")
        var bytes = try FileDigest.read(shard).bytes
        bytes[700] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: shard))
        expectSynthError(mentioning: "ds-000001.tar") { _ = try ShardMerge.merge(dir: dir.file("ds")) }
    }

    @Test func mergeRefusesPartCountsThatOverflowWhenSummed() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        for w in [0, 1] {
            var o = Self.options(dir.file("ds"), filter: nil)
            o.workers = 2
            o.worker = w
            try Self.build(o)
        }
        // Each part alone adds up (surplus absorbs the extra candidates); the two sums pass Int.max.
        for w in [0, 1] {
            let path = dir.file("ds/manifest.part-\(w)-of-2.json")
            var object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            var filter = try #require(object["filter"] as? [String: Any])
            var classes = try #require(filter["classes"] as? [[String: Any]])
            let extra = Int.max / 2 + 1
            classes[0]["generated"] = (classes[0]["generated"] as! Int) + extra
            classes[0]["surplus"] = (classes[0]["surplus"] as! Int) + extra
            filter["classes"] = classes
            object["filter"] = filter
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        }
        let message = expectSynthError(mentioning: dir.file("ds")) { _ = try ShardMerge.merge(dir: dir.file("ds")) }
        #expect(message?.contains("too large to add up") == true, "\(message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: dir.file("ds/manifest.json")))
    }

    @Test func unfilteredBuildHasNoProbsAndFullCounts() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let s = try Self.build(Self.options(dir.file("u"), filter: nil))
        #expect(s.manifest.numSamples == 30)
        #expect(s.manifest.filter?.enabled == false && s.manifest.filter?.classes.allSatisfy { $0.generated == 10 && $0.accepted == 10 } == true)
        #expect(try ShardVerifier.verify(dir: dir.file("u")).samples == 30)
        let data = try Dataset.load(spec: "shards:\(dir.file("u"))")
        #expect(data.softLabels == nil)
        #expect(data.labels == (0..<30).map { [0, 1, 7][$0 % 3] })
        let first = try TarReader.members(of: dir.file("u/ds-000000.tar"))
        #expect(first.map(\.name).prefix(6) == ["000000000.cls", "000000000.json", "000000000.png", "000000001.cls", "000000001.json", "000000001.png"])
        let json = String(decoding: first[1].bytes, as: UTF8.self)
        #expect(json.hasPrefix(#"{"batch":"#) && json.contains(#""class":0,"class_name":"T-shirt/top","seed":"#) && json.hasSuffix(#""source":"replay"}"#))
    }

    /// --label-model: the stored probs are the label models' mean probabilities of the stored
    /// pixels, acceptance stays the filter's, and the json's confidence stays the filter's p[y].
    @Test func labelModelsGiveTheSoftLabelsAndLeaveAcceptanceAlone() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier(), labeller = try Fixtures.classifier(seed: 2)
        let plain = try Self.build(Self.options(dir.file("f"), filter: filter))
        var o = Self.options(dir.file("l"), filter: filter)
        o.labelModels = [labeller]
        let s = try Self.build(o)
        let m = s.manifest
        #expect(m.build.labelModels == [BuildRecord.modelName(labeller)])
        #expect(m.build.models.map(\.role) == ["filter", "label"])
        #expect(m.build.id != plain.manifest.build.id, "the label models are part of what the build is")
        #expect(m.filter == plain.manifest.filter, "the filter's account does not change")
        #expect(try ShardVerifier.verify(dir: dir.file("l")).samples == m.numSamples)

        let a = try Dataset.load(spec: "shards:\(dir.file("f"))"), b = try Dataset.load(spec: "shards:\(dir.file("l"))")
        #expect(a.pixels == b.pixels && a.labels == b.labels, "the same candidates are kept")
        let soft = try #require(b.softLabels)
        let l = try EnsembleProbabilities(classifiers: [try ModelFile.loadClassifier(labeller)], names: [labeller])
        let expected = try b.pixels.withUnsafeBufferPointer { try l($0, count: b.count) }
        let worst = zip(expected, soft).map { abs($0 - $1) }.max() ?? 1
        #expect(soft.count == b.count * 10 && worst <= 1e-5, "stored soft labels differ from the label model's by \(worst)")
        #expect(soft != a.softLabels, "a different model gives different probabilities")

        // Each json keeps the filter's confidence in its class.
        let members = try TarReader.members(of: dir.file("l/" + m.shardlist[0].url))
        let plainMembers = try TarReader.members(of: dir.file("f/" + plain.manifest.shardlist[0].url))
        for (x, y) in zip(members, plainMembers) where x.name.hasSuffix(".json") {
            guard case .success(let r) = SampleRecord.parse(x.bytes), case .success(let q) = SampleRecord.parse(y.bytes) else {
                Issue.record("\(x.name) does not parse"); continue
            }
            #expect(r.confidence == q.confidence && r.probs != q.probs)
        }
    }

    @Test func unfilteredBuildWithLabelModelsHasSoftLabels() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var o = Self.options(dir.file("u"), filter: nil)
        o.labelModels = [try Fixtures.classifier(), try Fixtures.classifier(seed: 2)]
        let s = try Self.build(o)
        #expect(s.manifest.numSamples == 30 && s.manifest.filter?.enabled == false)
        #expect(try ShardVerifier.verify(dir: dir.file("u")).samples == 30)
        let data = try Dataset.load(spec: "shards:\(dir.file("u"))")
        let soft = try #require(data.softLabels)
        for i in 0..<data.count {
            let sum = soft[(i * 10)..<(i * 10 + 10)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-4, "sample \(i): an ensemble mean of probability vectors sums to 1, not \(sum)")
        }
        let json = String(decoding: try TarReader.members(of: dir.file("u/ds-000000.tar"))[1].bytes, as: UTF8.self)
        #expect(json.contains(#""probs":["#) && !json.contains("confidence"), "no filter, so no filter confidence: \(json)")
    }

    /// A labelled build's probs must be a probability vector: a json edited to break that (and the
    /// manifest re-hashed, so only the content check can catch it) is refused with its key.
    @Test func labelledProbsThatDoNotSumToOneAreRefused() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var o = Self.options(dir.file("u"), filter: nil)
        o.labelModels = [try Fixtures.classifier()]
        let m = try Self.build(o).manifest
        let path = dir.file("u/" + m.shardlist[0].url)
        var bytes = try FileDigest.read(path).bytes
        let marker = Array(#""probs":[0."#.utf8)
        let at = try #require((0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        let digit = at + marker.count
        bytes[digit] = bytes[digit] == UInt8(ascii: "9") ? UInt8(ascii: "0") : bytes[digit] + 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var edited = m
        let e = m.shardlist[0]
        edited.shardlist[0] = ShardEntry(url: e.url, nsamples: e.nsamples, digest: FileDigest.of(bytes), firstIndex: e.firstIndex, classCounts: e.classCounts)
        try Data(edited.encoded()).write(to: URL(fileURLWithPath: dir.file("u/manifest.json")))
        expectSynthError(mentioning: ": json probs sum to", exitCode: 1) { _ = try ShardVerifier.verify(dir: dir.file("u")) }
    }

    @Test func badLabelModelsFailBeforeTouchingTheOutput() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var o = Self.options(dir.file("x"), filter: nil)
        o.labelModels = [dir.file("none.safetensors")]
        expectSynthError(mentioning: dir.file("none.safetensors")) { try Self.build(o) }
        let bad = dir.file("bad.safetensors")
        var bytes = try FileDigest.read(try Fixtures.classifier()).bytes
        bytes.removeLast(1000)
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        o.labelModels = [bad]
        expectSynthError(mentioning: bad) { try Self.build(o) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("x")))
    }

    @Test func exhaustedAttemptsLeaveGapsThatVerify() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var o = Self.options(dir.file("g"), filter: try Fixtures.classifier())
        o.threshold = 0.9
        o.maxAttempts = 10
        let s = try Self.build(o)
        let m = s.manifest
        #expect(m.numSamples < 30, "a weak filter at 0.9 with 10 attempts per class cannot fill every slot")
        for st in m.filter!.classes { #expect(st.generated <= 10 + 4) }
        #expect(try ShardVerifier.verify(dir: dir.file("g")).samples == m.numSamples)
        let keys = try (0..<m.shardlist.count).flatMap { s in
            try TarReader.members(of: dir.file("g/" + m.shardlist[s].url)).filter { $0.name.hasSuffix(".cls") }.map { Int($0.name.prefix(9))! }
        }
        #expect(keys.allSatisfy { $0 < 30 } && keys == keys.sorted())
    }

    @Test func badInputFailsBeforeTouchingTheOutput() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier()
        var o = Self.options(dir.file("x"), filter: filter)
        o.classes = "11"
        expectSynthError(mentioning: "only 10 classes") { try Self.build(o) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("x")))

        // A corrupt model file.
        let bad = dir.file("bad.safetensors")
        var bytes = try FileDigest.read(filter).bytes
        bytes.removeLast(1000)
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        o = Self.options(dir.file("x"), filter: bad)
        expectSynthError(mentioning: bad) { try Self.build(o) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("x")))

        // The filter may not be the classifier the source inverts.
        o = Self.options(dir.file("x"), filter: filter)
        o.classifier = filter
        expectSynthError(mentioning: "the filter must be another model") {
            _ = try BuildRunner(options: o, toolVersion: "t") { _ in try InvertingReplay(classifier: filter) }
        }

        // Output that is not a writable directory; an existing non-empty one without --resume.
        try Data([1]).write(to: URL(fileURLWithPath: dir.file("file")))
        o = Self.options(dir.file("file/sub"), filter: nil)
        expectSynthError(mentioning: dir.file("file/sub")) { try Self.build(o) }
        try Self.build(Self.options(dir.file("y"), filter: nil))
        expectSynthError(mentioning: "not empty") { try Self.build(Self.options(dir.file("y"), filter: nil)) }
        o = Self.options(dir.file("z"), filter: nil)
        o.source = "cag"
        o.classifier = dir.file("none.safetensors")
        expectSynthError(mentioning: dir.file("none.safetensors")) { try Self.build(o) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("z")))
    }

    @Test func packAndPreview() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let data = try Dataset.load(spec: "fashion-mnist:test@250")
        let m = try ShardPack.pack(data, spec: "fashion-mnist:test@250", dir: dir.file("p"), name: "p", shardSize: 100, tool: "t")
        #expect(m.shardlist.map(\.nsamples) == [100, 100, 50] && m.filter == nil)
        #expect(try ShardVerifier.verify(dir: dir.file("p")).samples == 250)
        let back = try Dataset.load(spec: "shards:\(dir.file("p"))")
        #expect(back.pixels == data.pixels && back.labels == data.labels && back.classNames == data.classNames)
        let grid = try ShardPreview.grid(back, perRow: 4)
        let image = try PNG.decode(grid.png)
        #expect(grid.rows == Array(0..<10) && image.width == 4 * 28 + 5 * 2 && image.height == 10 * 28 + 11 * 2)
        #expect(grid.blocks == 1)
    }

    /// Past 25 classes the preview's rows wrap into equal blocks side by side, one empty cell
    /// between blocks, classes in order down each block; RGB stays RGB.
    @Test(arguments: [(100, 4, 25), (30, 2, 15), (25, 1, 25)])
    func previewWrapsManyClassesIntoBlocks(classes: Int, blocks: Int, rows: Int) throws {
        let side = 4, perRow = 2
        // Sample i is class i % classes with all its pixels (i % classes); two samples per class.
        let count = 2 * classes
        let pixels = (0..<count).flatMap { i in [UInt8](repeating: UInt8(i % classes), count: 3 * side * side) }
        let data = Dataset(name: "many", pixels: pixels, count: count, channels: 3, height: side, width: side,
                           labels: (0..<count).map { $0 % classes }, classNames: (0..<classes).map { "c\($0)" })
        let grid = try ShardPreview.grid(data, perRow: perRow)
        let image = try PNG.decode(grid.png)
        let columns = blocks * perRow + blocks - 1
        #expect(grid.blocks == blocks && grid.rows == Array(0..<classes) && image.channels == 3)
        #expect(image.width == columns * side + (columns - 1) * 2 + 4 && image.height == rows * side + (rows - 1) * 2 + 4)
        // The last class sits in the last block, at its row, first cell.
        let last = classes - 1, top = 2 + (last % rows) * (side + 2), left = 2 + (last / rows) * (perRow + 1) * (side + 2)
        #expect(image.pixels[top * image.width + left] == UInt8(last))
    }

    @Test func foreignWebDatasetLoadsWithoutManifest() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let w = try TarWriter(path: dir.file("a.tar"))
        for (k, label) in [(0, 3), (1, 1)] {
            let png = PNG.encode(pixels: [UInt8](repeating: UInt8(k * 100), count: 16), width: 4, height: 4, channels: 1)
            try w.add(name: "s\(k).cls", bytes: Array("\(label)\n".utf8))
            try w.add(name: "s\(k).png", bytes: png)
            try w.add(name: "s\(k).txt", bytes: [65])
        }
        try w.finish()
        let data = try Dataset.load(spec: "shards:\(dir.path)")
        #expect(data.labels == [3, 1] && data.classNames.count == 4 && data.pixels[16] == 100)
    }
}

/// The replay source pretending to invert a classifier (for the filter-differs check).
final class InvertingReplay: SampleSource {
    let base: ReplaySource
    let classifier: String
    init(classifier: String) throws { base = try ReplaySource(spec: "fashion-mnist:test@100"); self.classifier = classifier }
    var sourceName: String { "replay" }
    var classNames: [String] { base.classNames }
    var imageShape: [Int] { base.imageShape }
    var modelFiles: [String] { [classifier] }
    func role(ofModel path: String) -> String { "classifier" }
    var preferredBatch: Int { 8 }
    var settings: [String: String] { [:] }
    func generate(label: Int, count: Int, seed: UInt64) throws -> Tensor { try base.generate(label: label, count: count, seed: seed) }
}

@discardableResult
func expectSynthError(mentioning needle: String, exitCode: Int32 = 2, sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) -> String? {
    do {
        try body()
        Issue.record("expected a SynthError mentioning \(needle), got success", sourceLocation: sourceLocation)
    } catch let e as SynthError {
        #expect(e.message.contains(needle), "\"\(e.message)\" does not mention \(needle)", sourceLocation: sourceLocation)
        #expect(!e.message.contains("\n"), "not one line: \(e.message)", sourceLocation: sourceLocation)
        #expect(e.exitCode == exitCode, "exit code \(e.exitCode): \(e.message)", sourceLocation: sourceLocation)
        return e.message
    } catch {
        Issue.record("expected a SynthError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
