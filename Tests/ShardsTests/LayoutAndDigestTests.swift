import Foundation
@testable import Shards
import Support
import TestSupport
import Testing

@Suite struct LayoutAndDigestTests {
    /// The digest TarWriter computes while writing equals the digest of the file on disk, and the
    /// strict layout check accepts exactly what TarWriter writes (sizes around block and record
    /// boundaries, a non-zero mtime), placing members where TarReader finds them.
    @Test(arguments: [0, 1234567])
    func streamedDigestAndStrictLayoutMatchTheWriter(mtime: Int) throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("x.tar")
        let w = try TarWriter(path: path, mtime: mtime)
        let sizes = [0, 1, 511, 512, 513, 10240, 70_001]
        for (i, n) in sizes.enumerated() {
            try w.add(name: "\(String(format: "%09d", i)).bin", bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) })
        }
        let digest = try w.finish()
        let (bytes, onDisk) = try FileDigest.read(path)
        #expect(digest == onDisk)
        let members = try bytes.withUnsafeBytes { try UstarLayout.scan($0) }
        let reference = try TarReader.members(of: path)
        #expect(members.map(\.name) == reference.map(\.name))
        for (m, r) in zip(members, reference) { #expect(Array(bytes[m.data]) == r.bytes) }
    }

    @Test func strictLayoutRejectsForeignDialects() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("x.tar")
        let w = try TarWriter(path: path, mtime: 0)
        try w.add(name: "000000000.cls", bytes: [49])
        try w.finish()
        var bytes = try FileDigest.read(path).bytes
        bytes[100 + 3] = UInt8(ascii: "6")  // mode 0644: a valid tar, but not what synth writes
        #expect(throws: UstarLayout.Problem.self) { try bytes.withUnsafeBytes { try UstarLayout.scan($0) } }
        #expect(throws: UstarLayout.Problem.self) { try Array(bytes.prefix(1024)).withUnsafeBytes { try UstarLayout.scan($0) } }
    }

    @Test func manifestRoundTripsAndAssemblesDeterministically() throws {
        let build = BuildRecord(command: "build", tool: "synth t", source: "gan", seed: 3, classes: [0, 2], perClass: 4,
                                plannedSamples: 8, shardSize: 4, threshold: 0.5, maxAttempts: 80, filters: ["f.safetensors"])
        func stats(_ c: Int, _ n: Int) -> ClassStats {
            var s = ClassStats(classIndex: c, name: "c\(c)", bins: 20)
            s.generated = n + 1; s.accepted = n; s.rejectedLowConfidence = 1; s.confidenceHistogram[19] = n
            return s
        }
        let digest = FileDigest(size: 10240, sha256: String(repeating: "a", count: 64), md5: String(repeating: "b", count: 32))
        let records = (0..<2).map { s in
            ShardRecord(buildID: build.id, index: s, entry: ShardEntry(url: "d-00000\(s).tar", nsamples: 4, digest: digest, firstIndex: 4 * s,
                                                                      classCounts: [2, 0, 2]), stats: [stats(0, 2), stats(2, 2)])
        }
        let classes = ["c0", "c1", "c2"]
        let a = Manifest.assemble(name: "d", classes: classes, imageShape: [1, 4, 4], build: build, records: records, histogramBins: 20)
        let b = Manifest.assemble(name: "d", classes: classes, imageShape: [1, 4, 4], build: build, records: records.reversed(), histogramBins: 20)
        #expect(a.encoded() == b.encoded())
        #expect(a.numSamples == 8 && a.filter?.classes.map(\.accepted) == [4, 4] && a.filter?.classes[0].confidenceHistogram[19] == 4)
        #expect(try Manifest.decode(a.encoded(), path: "m") == a)
        #expect(throws: Error.self) { try Manifest.decode(Array("{}".utf8), path: "m") }
        // The build id changes with any setting.
        var other = build
        other.seed = 4
        #expect(other.id != build.id && build.id.count == 64)
    }
}
