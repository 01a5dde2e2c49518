import Support
import Foundation

/// Read-modify-write of a complete dataset's manifest.json, for commands that add sections to it
/// after the build (audit, cas, compress). The directory is locked (flock on its descriptor) for
/// the whole update, so two such commands on one dataset never lose each other's section, and
/// the new manifest replaces the old one atomically (temporary, fsync, rename).
public enum ManifestUpdate {
    @discardableResult
    public static func modify(dir: String, _ change: (inout Manifest) throws -> Void) throws -> Manifest {
        let path = Files.join(dir, ShardFiles.manifest)
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SynthError.file(dir, "cannot open: \(Files.describe(errno: errno))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SynthError.file(dir, "cannot lock: \(Files.describe(errno: errno))") }
        }
        defer { flock(fd, LOCK_UN) }
        var manifest = try Manifest.read(path)
        let before = manifest
        try change(&manifest)
        // The shards' index must not move: only sections may change here.
        precondition(manifest.shardlist == before.shardlist && manifest.build == before.build, "ManifestUpdate changed the shard index")
        if manifest != before { try Files.writeAtomically(manifest.encoded(), to: path) }
        return manifest
    }
}
