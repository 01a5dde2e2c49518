import Datasets
import Foundation
import Shards
import Support

/// The resume protocol of a build directory, for one process (a single build or one worker).
/// A complete shard is recorded by a hidden `.NAME-NNNNNN.done.json` beside it until a manifest
/// holds it; on --resume the shards whose records and hashes check out are kept, every
/// incomplete piece of this process's shards is removed, and pieces of another build are refused.
struct BuildResume {
    let dir: String
    let name: String
    let record: BuildRecord
    let plan: BuildPlan
    let part: PartInfo?
    /// --resume: a directory holding this process's files may be continued (else it is refused).
    let resume: Bool

    /// The shards this process builds: all of them, or a worker's share.
    var shards: [Int] { part.map { plan.shards(worker: $0.worker, of: $0.workers) } ?? Array(0..<plan.shardCount) }
    /// manifest.json, or a worker's part manifest.
    var manifestFile: String { part.map { ShardFiles.part(worker: $0.worker, of: $0.workers) } ?? ShardFiles.manifest }
    func path(_ file: String) -> String { Files.join(dir, file) }

    /// When the directory already holds this build's final (or part) manifest: checks it and its
    /// shards and returns it; refuses it without --resume or when it is another build's.
    func existingComplete() throws -> BuildSummary? {
        let manifestPath = path(manifestFile)
        let merged = path(ShardFiles.manifest)
        let candidate = Files.exists(manifestPath) ? manifestPath : (part != nil && Files.exists(merged) ? merged : nil)
        guard let found = candidate else { return nil }
        guard resume else {
            throw SynthError.file(found, "this output is already complete (use --resume to check it, or another --out)")
        }
        let m = try Manifest.read(found)
        guard m.build == record, m.name == name else {
            let field = m.name == name ? m.build.firstDifference(from: record) ?? "build" : "name"
            throw SynthError.file(found, "holds a build with other flags, models or tool version (it differs in \(field)); refusing to mix them")
        }
        for e in m.shardlist {
            let shard = path(e.url)
            guard let problem = ShardVerifier.mismatchOfFile(shard, e) else { continue }
            throw SynthError.file(shard, "\(problem) though \((found as NSString).lastPathComponent) says the build is complete; it was damaged afterwards: build again into a new directory")
        }
        try removeLeftovers()
        return BuildSummary(manifest: m, manifestPath: found, shardsBuilt: 0, shardsResumed: m.shardlist.count, alreadyComplete: true)
    }

    /// The complete shards a resumed build keeps (their records and hashes check out), after
    /// removing every incomplete piece of this process's shards. Without --resume, refuses to
    /// touch a directory holding any of this process's files.
    func keptShards() throws -> [Int: ShardRecord] {
        let files = try Files.list(dir)
        let buildID = record.id
        // Pieces of another build never mix with this one.
        // Other workers may remove their records and parts while we look: a vanished file is skipped.
        for f in files where f.hasPrefix(".") && f.hasSuffix(".done.json") {
            let r: ShardRecord
            do { r = try ShardRecord.read(path(f)) } catch where !Files.exists(path(f)) { continue }
            guard r.buildID == buildID else {
                throw SynthError.file(path(f), "belongs to a build with other flags, models or tool version; refusing to mix them (use another --out)")
            }
        }
        for f in files where ShardFiles.parsePart(f) != nil {
            let other: Manifest
            do { other = try Manifest.read(path(f)) } catch where !Files.exists(path(f)) { continue }
            guard other.build == record else {
                throw SynthError.file(path(f), "belongs to a build with other flags, models or tool version (it differs in \(other.build.firstDifference(from: record) ?? "build")); refusing to mix them (use another --out)")
            }
        }
        for f in files {
            if let s = ShardFiles.shardIndex(f, name: name), s >= plan.shardCount {
                throw SynthError.file(path(f), "is not a shard of this build (it plans \(counted(plan.shardCount, "shard")))")
            }
        }
        if !resume {
            // Only reachable for workers: the directory may hold the other workers' files.
            for s in shards {
                for f in [ShardFiles.shard(name, s), ShardFiles.partial(name, s), ShardFiles.done(name, s)] where Files.exists(path(f)) {
                    throw SynthError.file(path(f), "already exists: worker \(part!.worker) ran here before (use --resume)")
                }
            }
            return [:]
        }

        var records: [Int: ShardRecord] = [:]
        for s in shards {
            try Files.remove(path(ShardFiles.partial(name, s)))
            try Files.remove(path("." + ShardFiles.done(name, s) + ".tmp"))
            let donePath = path(ShardFiles.done(name, s)), shardPath = path(ShardFiles.shard(name, s))
            guard Files.exists(donePath) else { continue }
            let r = try ShardRecord.read(donePath)
            if r.index == s, r.entry.url == ShardFiles.shard(name, s), ShardVerifier.mismatchOfFile(shardPath, r.entry) == nil {
                records[s] = r
            } else {
                // The record outlived its shard (or the shard was damaged): build it again.
                try Files.remove(donePath)
            }
        }
        try Files.remove(path("." + manifestFile + ".tmp"))
        Files.syncDirectory(dir)
        return records
    }

    /// Records shard s as complete (its shard file is already in place).
    func recordComplete(_ shard: ShardRecord) throws {
        try Files.writeAtomically(shard.encoded(), to: path(ShardFiles.done(name, shard.index)))
        TestCrash.point("recorded")
    }

    /// Removes this process's resume records and temporaries once a manifest holds them.
    func removeLeftovers() throws {
        for s in shards {
            try Files.remove(path(ShardFiles.partial(name, s)))
            try Files.remove(path(ShardFiles.done(name, s)))
            TestCrash.point("cleanup")
        }
        Files.syncDirectory(dir)
    }
}
