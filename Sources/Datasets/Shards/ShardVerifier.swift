import Foundation
import Shards
import Support

/// `synth verify DIR`: recomputes every shard's size, MD5 and SHA-256, checks every sample
/// (ShardInspector), and the manifest's own totals. Each shard is read once; shards are checked in
/// parallel and the first bad one in shard order is reported.
public enum ShardVerifier {
    public struct Report: Sendable {
        public let shards: Int
        public let samples: Int
        public let bytes: Int
        /// What a short build fell short of its plan by (Manifest.shortfallText); nil when complete.
        public let shortfall: String?
        public var summary: String {
            "\(counted(shards, "shard")), \(counted(samples, "sample")), \(counted(bytes, "byte")): every hash, count, label and image checks out"
                + (shortfall.map { "; the dataset is short of its plan: \($0)" } ?? "")
        }
    }

    /// A failed check is a SynthError with exit code 1 naming the shard and, where it can be
    /// placed, the sample; a directory that does not exist is bad input (exit code 2).
    public static func verify(dir: String) throws -> Report {
        guard Files.isDirectory(dir) else { throw SynthError.file(dir, "no such directory") }
        let manifestPath = Files.join(dir, ShardFiles.manifest)
        // An unfinished build is a failed check here (exit 1), with the readers' hint.
        do { try ShardsDataset.checkFinished(dir: dir) } catch let e as SynthError { throw SynthError(e.message, exitCode: 1) }
        guard Files.exists(manifestPath) else {
            throw SynthError("\(manifestPath): missing: not a complete synth dataset (a build that did not finish, or unmerged worker parts)", exitCode: 1)
        }
        let manifest: Manifest
        do { manifest = try Manifest.read(manifestPath) } catch let e as SynthError { throw SynthError(e.message, exitCode: 1) }
        do { try checkStructure(manifest, path: manifestPath) } catch let e as SynthError { throw SynthError(e.message, exitCode: 1) }

        // Shards the manifest does not list would be read by anything that globs *.tar.
        let listed = Set(manifest.shardlist.map(\.url))
        for file in try Files.list(dir) where file.hasSuffix(".tar") && !listed.contains(file) {
            throw SynthError("\(Files.join(dir, file)): a shard manifest.json does not list", exitCode: 1)
        }

        let count = manifest.shardlist.count
        let inspector = ShardInspector(manifest: manifest, keep: false)
        let failures = Parallel.map(count) { s in check(shard: s, dir: dir, manifest: manifest, inspector: inspector) }
        if let first = failures.compactMap({ $0 }).first { throw first }
        return Report(shards: count, samples: manifest.numSamples, bytes: manifest.shardlist.reduce(0) { $0 + $1.filesize },
                      shortfall: manifest.shortfallText)
    }

    private static func check(shard s: Int, dir: String, manifest: Manifest, inspector: ShardInspector) -> SynthError? {
        let entry = manifest.shardlist[s]
        let path = Files.join(dir, entry.url)
        let bytes: [UInt8], digest: FileDigest
        do { (bytes, digest) = try FileDigest.read(path) } catch let e as SynthError {
            return SynthError(e.message, exitCode: 1)
        } catch { return SynthError.file(path, "\(error)") }
        do {
            _ = try inspector.inspect(bytes, shard: s)
        } catch let p as ShardInspector.Problem {
            return SynthError("\(path): \(p.key.map { "sample \($0): " } ?? "")\(p.message)", exitCode: 1)
        } catch {
            return SynthError("\(path): \(error)", exitCode: 1)
        }
        if let m = mismatch(digest, entry) {
            return SynthError("\(path): \(m) (every sample checks out: the damage is in bytes only the hash covers)", exitCode: 1)
        }
        return nil
    }

    /// What differs between a file's digest and its manifest entry, if anything.
    public static func mismatch(_ digest: FileDigest, _ entry: ShardEntry) -> String? {
        if digest.size != entry.filesize { return "size \(digest.size) bytes, the manifest says \(entry.filesize)" }
        if digest.sha256 != entry.sha256 { return "sha256 differs from the manifest" }
        if digest.md5 != entry.md5sum { return "md5sum differs from the manifest" }
        return nil
    }

    /// The manifest's own consistency: format markers, shard names and ranges, totals, and the
    /// filter's accepted counts against the shards' class counts. With `part`, the manifest is that
    /// worker's part (`synth merge` checks each before it sums them) and lists that worker's shards.
    public static func checkStructure(_ m: Manifest, path: String, part: PartInfo? = nil) throws {
        func bad(_ problem: String) -> SynthError { SynthError.file(path, problem) }
        guard m.kind == "wids-shard-index-v1", m.format == "webdataset", m.members == ["cls", "json", "png"] else {
            throw bad("not a synth WebDataset manifest (__kind__, format or members)")
        }
        if let part {
            guard m.part == part else { throw bad("its 'part' field does not match its file name") }
        } else {
            guard m.part == nil else { throw bad("is a worker's part manifest; run synth merge") }
        }
        try ShardFiles.checkName(m.name)
        guard m.imageShape.count == 3, m.imageShape[0] == 1 || m.imageShape[0] == 3, m.imageShape[1] > 0, m.imageShape[2] > 0 else {
            throw bad("image_shape must be [1 or 3, height, width]")
        }
        // Bounded as a PNG member is, so the image size (and every buffer sized from it) cannot overflow.
        guard m.imageShape[1] <= PNG.maxDecodedBytes, m.imageShape[2] <= PNG.maxDecodedBytes,
              m.imageShape.reduce(1, *) <= PNG.maxDecodedBytes else {
            throw bad("image_shape \(m.imageShape) holds more than \(PNG.maxDecodedBytes) bytes per image")
        }
        let b = m.build
        guard b.command == "build" || b.command == "pack" else { throw bad("build.command must be build or pack") }
        guard b.shardSize > 0, b.plannedSamples >= 0, !m.classes.isEmpty else { throw bad("shard_size, planned_samples or classes invalid") }
        guard !b.classes.isEmpty, b.classes.allSatisfy({ $0 >= 0 && $0 < m.classes.count }) else {
            throw bad("build.classes must index classes")
        }
        // The shards the manifest must list, never materialised: a hostile plan may hold 10^18 of them.
        let first = max(part?.worker ?? 0, 0), step = max(part?.workers ?? 1, 1)
        let shards = stride(from: first, to: b.shardCount, by: step)
        let expected = b.shardCount > first ? (b.shardCount - 1 - first) / step + 1 : 0
        guard m.shardlist.count == expected else {
            if let part {
                throw bad("does not list exactly worker \(part.worker)'s shards \(shards.prefix(5).map(String.init).joined(separator: ","))\(expected > 5 ? ",..." : "")")
            }
            throw bad("lists \(counted(m.shardlist.count, "shard")), the build plans \(b.shardCount)")
        }
        var total = 0
        var perClass = [Int](repeating: 0, count: m.classes.count)
        for (e, s) in zip(m.shardlist, shards) {
            guard e.url == ShardFiles.shard(m.name, s) else { throw bad("shard \(s) is '\(e.url)', expected '\(ShardFiles.shard(m.name, s))'") }
            // s < shardCount, so s * shardSize < plannedSamples + shardSize; checked anyway, as every
            // sum of counts below: a hostile manifest fails here, it does not trap.
            let (start, overflow) = s.multipliedReportingOverflow(by: b.shardSize)
            guard !overflow, e.firstIndex == start, e.classCounts.count == m.classes.count, e.nsamples >= 0,
                  nonNegativeSum(e.classCounts) == e.nsamples, e.nsamples <= min(b.shardSize, b.plannedSamples - e.firstIndex) else {
                throw bad("entry of \(e.url) is inconsistent (first_index, nsamples or class_counts)")
            }
            total += e.nsamples
            for (c, n) in e.classCounts.enumerated() { perClass[c] += n }
        }
        guard total == m.numSamples else { throw bad("num_samples \(m.numSamples) but the shards hold \(total)") }
        if b.command == "build" {
            guard let f = m.filter, f.classes.count == b.classes.count else { throw bad("build without a filter report") }
            guard (f.threshold != nil) == f.enabled, f.threshold == b.threshold else { throw bad("filter threshold disagrees with the build") }
            for (k, st) in f.classes.enumerated() {
                guard st.classIndex == b.classes[k], st.accepted == perClass[st.classIndex] else {
                    throw bad("filter says class \(st.classIndex) has \(st.accepted) accepted samples, the shards hold \(perClass[min(max(st.classIndex, 0), perClass.count - 1)])")
                }
                guard st.countsAddUp, (st.rejectedNearCopy != nil) == (b.rejectNearCopies != nil) else {
                    throw bad("filter counts of class \(st.classIndex) do not add up")
                }
            }
        }
    }
}

extension ShardVerifier {
    /// Reads `path` once and says how it differs from `entry` (nil: it matches; a missing file differs).
    public static func mismatchOfFile(_ path: String, _ entry: ShardEntry) -> String? {
        guard Files.exists(path) else { return "missing" }
        guard let digest = try? FileDigest.read(path).digest else { return "unreadable" }
        return mismatch(digest, entry)
    }
}
