import Shards
import Datasets
import Support
import Foundation

/// `synth merge DIR`: joins the part manifests of a `--workers W` build into manifest.json.
/// Every part must be there, all must describe the same build, together they must cover every
/// planned shard exactly once (worker I owns shards s with s mod W == I), and every shard file
/// must match its entry. manifest.json is then written atomically and the parts removed; the
/// result is byte-identical to a single-process build of the same flags.
public enum ShardMerge {
    public struct Result: Sendable {
        public let manifest: Manifest
        /// False when DIR was already merged (no parts left, a valid manifest.json present).
        public let merged: Bool
    }

    public static func merge(dir: String) throws -> Result {
        guard Files.isDirectory(dir) else { throw SynthError.file(dir, "no such directory") }
        let files = try Files.list(dir)
        let parts = files.compactMap { f in ShardFiles.parsePart(f).map { (file: f, worker: $0.worker, workers: $0.workers) } }
        let manifestPath = Files.join(dir, ShardFiles.manifest)
        guard let first = parts.first else {
            if Files.exists(manifestPath) {
                let m = try Manifest.read(manifestPath)
                try ShardVerifier.checkStructure(m, path: manifestPath)
                return Result(manifest: m, merged: false)
            }
            throw SynthError.file(dir, "no part manifests (manifest.part-I-of-W.json) to merge")
        }
        let workers = first.workers
        if let other = parts.first(where: { $0.workers != workers }) {
            throw SynthError.file(Files.join(dir, other.file), "is a part of \(other.workers) workers, \(first.file) of \(workers)")
        }
        let present = Set(parts.map(\.worker))
        if let missing = (0..<workers).first(where: { !present.contains($0) }) {
            throw SynthError.file(Files.join(dir, ShardFiles.part(worker: missing, of: workers)),
                                  "missing: worker \(missing) of \(workers) has not finished")
        }

        var manifests: [Manifest] = []
        for p in parts.sorted(by: { $0.worker < $1.worker }) {
            let path = Files.join(dir, p.file)
            let m = try Manifest.read(path)
            // The part's own consistency, its shards (worker I owns s mod W == I) included.
            try ShardVerifier.checkStructure(m, path: path, part: PartInfo(worker: p.worker, workers: workers))
            if let base = manifests.first {
                guard m.build == base.build else {
                    let field = m.build.firstDifference(from: base.build) ?? "build"
                    throw SynthError.file(path, "part \(p.worker) differs from part 0 (\(ShardFiles.part(worker: 0, of: workers))) in \(field): it belongs to another build (flags, models or tool version); refusing to merge")
                }
                guard m.name == base.name, m.classes == base.classes, m.imageShape == base.imageShape else {
                    throw SynthError.file(path, "name, classes or image shape differ from \(ShardFiles.part(worker: 0, of: workers))")
                }
            }
            for e in m.shardlist {
                let shard = Files.join(dir, e.url)
                let digest = try FileDigest.read(shard).digest
                if let problem = ShardVerifier.mismatch(digest, e) {
                    throw SynthError.file(shard, "does not match \(p.file): \(problem)")
                }
            }
            manifests.append(m)
        }

        let base = manifests[0]
        // The parts' filter accounts are summed below. Each part's passed the structure check (no
        // negative count, every class's counts adding up to its candidates), so bounding the sums
        // of candidates and of each histogram bin bounds every sum: hostile parts fail, not trap.
        for k in base.build.classes.indices {
            let accounts = manifests.compactMap { $0.filter?.classes }.filter { k < $0.count }.map { $0[k] }
            let bins = accounts.map(\.confidenceHistogram.count).max() ?? 0
            let summable = nonNegativeSum(accounts.map(\.generated)) != nil && (0..<bins).allSatisfy { i in
                nonNegativeSum(accounts.map { i < $0.confidenceHistogram.count ? $0.confidenceHistogram[i] : 0 }) != nil
            }
            guard summable else {
                throw SynthError.file(dir, "the parts' filter counts of class \(base.build.classes[k]) are negative or too large to add up")
            }
        }
        let entries = manifests.flatMap(\.shardlist).sorted { $0.firstIndex < $1.firstIndex }
        let merged = Manifest.assemble(name: base.name, classes: base.classes, imageShape: base.imageShape, build: base.build,
                                       entries: entries, stats: manifests.map { $0.filter?.classes ?? [] },
                                       histogramBins: base.filter?.histogramBins ?? 0)
        try Files.writeAtomically(merged.encoded(), to: manifestPath)
        TestCrash.point("merged")
        for p in parts { try Files.remove(Files.join(dir, p.file)) }
        Files.syncDirectory(dir)
        return Result(manifest: merged, merged: true)
    }
}
