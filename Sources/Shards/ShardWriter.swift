import Foundation
import Support

/// One sample's members, ready to write.
public struct ShardSample: Sendable {
    /// Global sample index (the key is its 9-digit spelling).
    public var index: Int
    public var classIndex: Int
    public var json: [UInt8]
    public var png: [UInt8]

    public init(index: Int, classIndex: Int, json: [UInt8], png: [UInt8]) {
        self.index = index; self.classIndex = classIndex; self.json = json; self.png = png
    }
}

/// Writes shards the DESIGN.md way: members `KEY.cls`, `KEY.json`, `KEY.png` per sample, samples in
/// key order, into a hidden `.partial` file that is fsynced and only then renamed into place, so a
/// file named `<name>-NNNNNN.tar` is always complete. Hashes are computed from the bytes as they
/// are written.
public enum ShardWriter {
    public static func write(dir: String, name: String, index: Int, firstIndex: Int, classCount: Int,
                             samples: [ShardSample]) throws -> ShardEntry {
        let partial = Files.join(dir, ShardFiles.partial(name, index))
        let final = Files.join(dir, ShardFiles.shard(name, index))
        var counts = [Int](repeating: 0, count: classCount)
        let digest: FileDigest
        do {
            let tar = try TarWriter(path: partial)
            var previous = -1
            for s in samples {
                precondition(s.index > previous, "ShardWriter: sample keys must increase")
                previous = s.index
                guard s.classIndex >= 0 && s.classIndex < classCount else {
                    throw SynthError("sample \(s.index): class \(s.classIndex) outside 0..<\(classCount)")
                }
                counts[s.classIndex] += 1
                try tar.add(sample: s)
                TestCrash.point("sample")
            }
            digest = try tar.finish()
            TestCrash.point("shard-synced")
            try Files.rename(partial, to: final, dir: dir)
        } catch {
            // Free the space (a full disk is a likely cause); a kill leaves the partial to --resume.
            unlink(partial)
            throw error
        }
        TestCrash.point("shard-renamed")
        return ShardEntry(url: ShardFiles.shard(name, index), nsamples: samples.count, digest: digest,
                          firstIndex: firstIndex, classCounts: counts)
    }
}

extension TarWriter {
    /// A sample's members, `KEY.cls` (the class index in decimal), `KEY.json`, `KEY.png`: what a
    /// shard and a stream (`build --out -`) hold per sample.
    public func add(sample s: ShardSample) throws {
        let key = ShardFiles.key(s.index)
        try add(name: key + ".cls", bytes: Array(String(s.classIndex).utf8))
        try add(name: key + ".json", bytes: s.json)
        try add(name: key + ".png", bytes: s.png)
    }
}
