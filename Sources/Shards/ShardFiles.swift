import Engine
import Foundation

/// File names inside a shards directory. Everything that is not yet complete is hidden (a leading
/// dot), so `ls *.tar`, globs and brace expansions never see it:
///
///     <name>-000003.tar                 a complete shard (renamed into place after fsync)
///     .<name>-000003.tar.partial        a shard being written
///     .<name>-000003.done.json          what a build needs to resume: the shard's digest and filter
///                                       statistics (removed once manifest.json or a part manifest holds them)
///     manifest.part-<I>-of-<W>.json     a worker's share, until `synth merge` writes manifest.json
///     manifest.json                     written last: its presence means the dataset is complete
public enum ShardFiles {
    public static let manifest = "manifest.json"

    public static func shard(_ name: String, _ index: Int) -> String { "\(name)-\(pad(index, 6)).tar" }
    public static func partial(_ name: String, _ index: Int) -> String { ".\(shard(name, index)).partial" }
    public static func done(_ name: String, _ index: Int) -> String { ".\(name)-\(pad(index, 6)).done.json" }
    public static func part(worker: Int, of workers: Int) -> String { "manifest.part-\(worker)-of-\(workers).json" }

    /// A sample key: the zero-padded global sample index.
    public static func key(_ index: Int) -> String { pad(index, 9) }

    /// What only an unfinished synth build leaves in its directory: a resume record
    /// (`.NAME-NNNNNN.done.json`), a shard being written (`.NAME-NNNNNN.tar.partial`) or a
    /// manifest being written (`.manifest*.json.tmp`).
    public static func isUnfinishedBuildPiece(_ file: String) -> Bool {
        guard file.hasPrefix(".") else { return false }
        if file.hasPrefix(".manifest") && file.hasSuffix(".json.tmp") { return true }
        for suffix in [".done.json", ".tar.partial"] where file.hasSuffix(suffix) {
            // ".NAME-" + at least 6 digits + suffix
            let stem = file.dropFirst().dropLast(suffix.count)
            guard let dash = stem.lastIndex(of: "-") else { return false }
            let digits = stem[stem.index(after: dash)...]
            return dash != stem.startIndex && digits.count >= 6 && digits.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return false
    }

    /// (worker, workers) of a part manifest's file name.
    public static func parsePart(_ file: String) -> (worker: Int, workers: Int)? {
        guard file.hasPrefix("manifest.part-"), file.hasSuffix(".json") else { return nil }
        let middle = file.dropFirst("manifest.part-".count).dropLast(".json".count)
        let pieces = middle.components(separatedBy: "-of-")
        guard pieces.count == 2, let i = Int(pieces[0]), let w = Int(pieces[1]), w > 0, i >= 0, i < w,
              String(i) == pieces[0], String(w) == pieces[1] else { return nil }
        return (i, w)
    }

    /// The shard index of `<name>-NNNNNN.tar`, or nil for any other name.
    public static func shardIndex(_ file: String, name: String) -> Int? {
        let prefix = name + "-"
        guard file.hasPrefix(prefix), file.hasSuffix(".tar") else { return nil }
        let digits = file.dropFirst(prefix.count).dropLast(4)
        guard digits.count >= 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// A shard name must be usable as a file-name prefix and keep WebDataset's key rules away
    /// from the file name: no '/', no leading '.', no whitespace or NUL.
    public static func checkName(_ name: String) throws {
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"),
              !name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 32 }) else {
            throw SynthError("shard name '\(name)' is not usable (no '/', whitespace or leading '.'); pass --name")
        }
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    public static func join(_ dir: String, _ file: String) -> String {
        dir.hasSuffix("/") ? dir + file : dir + "/" + file
    }

    /// The entries of `dir` (hidden ones included), sorted byte-wise.
    public static func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw SynthError.file(dir, "cannot list: \(describeErrno(errno))") }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Removes a file; a missing file is not an error.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw SynthError.file(path, "cannot remove: \(describeErrno(errno))")
        }
    }

    /// Flushes a directory's entries (renames and unlinks in it) to disk.
    public static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// Renames `from` to `to` (same directory) and makes the rename durable.
    public static func rename(_ from: String, to: String, dir: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw SynthError.file(to, "cannot rename \(from) into place: \(describeErrno(errno))")
        }
        syncDirectory(dir)
    }

    /// Writes `bytes` to `path` all at once or not at all: a hidden temporary beside it, fsynced,
    /// then renamed over `path`. On failure the temporary is removed and `path` is untouched.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = join(dir.isEmpty ? "." : dir, "." + (path as NSString).lastPathComponent + ".tmp")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SynthError.file(tmp, "cannot create: \(describeErrno(errno))") }
        var failure: Int32?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                done += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == nil { failure = errno }
        if let failure {
            unlink(tmp)
            throw SynthError.file(tmp, "write failed: \(describeErrno(failure))")
        }
        try rename(tmp, to: path, dir: dir.isEmpty ? "." : dir)
    }
}

/// Deterministic crash points for the resume tests: with SYNTH_TEST_KILL_AT=POINT:N in the
/// environment the process sends itself SIGKILL at the N-th time it reaches POINT (no cleanup, no
/// flush: exactly what a killed build leaves). Test-only; without the variable it costs a lookup.
public enum TestCrash {
    private static let target: (point: String, count: Int)? = {
        guard let spec = ProcessInfo.processInfo.environment["SYNTH_TEST_KILL_AT"],
              let colon = spec.lastIndex(of: ":"), let n = Int(spec[spec.index(after: colon)...]), n > 0 else { return nil }
        return (String(spec[..<colon]), n)
    }()
    nonisolated(unsafe) private static var hits = 0
    private static let lock = NSLock()

    public static func point(_ name: String) {
        guard let target, target.point == name else { return }
        let reached = lock.withLock { hits += 1; return hits == target.count }
        if reached { kill(getpid(), SIGKILL) }
    }
}
