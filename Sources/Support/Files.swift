import Foundation

/// Every file operation synth does, written once: whole-file reads, all-or-nothing writes,
/// listing, renames made durable, and errno in the words a one-line message uses.
public enum Files {
    /// The bytes of a regular file, or a one-line error naming it. A file larger than `limit`
    /// bytes (a reader's stated cap) is refused before anything is allocated for it.
    public static func read(_ path: String, atMost limit: Int = Int.max) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SynthError.file(path, describe(errno: errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SynthError.file(path, describe(errno: errno)) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw SynthError.file(path, "is a directory, expected a file")
        default: throw SynthError.file(path, "not a regular file")
        }
        let size = Int(st.st_size)
        guard size <= limit else { throw SynthError.file(path, "\(size) bytes, more than the \(limit) synth reads from such a file") }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        let failure: Int32? = bytes.withUnsafeMutableBytes { raw in
            while done < size {
                let n = Glibc.read(fd, raw.baseAddress! + done, size - done)
                if n < 0 { if errno == EINTR { continue }; return errno }
                if n == 0 { break }
                done += n
            }
            return nil
        }
        if let failure { throw SynthError.file(path, describe(errno: failure)) }
        guard done == size else { throw SynthError.file(path, "file shrank while being read") }
        return bytes
    }

    /// Writes `bytes` to `path` all at once or not at all: a hidden temporary beside it
    /// (`.NAME.tmp`, so a crash leaves at most one, which the next write replaces and readers of
    /// a build directory recognise), fsynced, then renamed over `path` and the rename made durable.
    /// On failure the temporary is removed and `path` is untouched.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let dir = directory(of: path)
        let tmp = join(dir, "." + (path as NSString).lastPathComponent + ".tmp")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SynthError.file(path, "cannot create a temporary file beside it: \(describe(errno: errno))") }
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
            throw SynthError.file(path, "write failed: \(describe(errno: failure))")
        }
        do { try rename(tmp, to: path, dir: dir) } catch { unlink(tmp); throw error }
    }

    /// Renames `from` to `to` (same directory) and makes the rename durable.
    public static func rename(_ from: String, to: String, dir: String) throws {
        guard Glibc.rename(from, to) == 0 else {
            throw SynthError.file(to, "cannot rename \(from) into place: \(describe(errno: errno))")
        }
        syncDirectory(dir)
    }

    /// Removes a file; a missing file is not an error.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw SynthError.file(path, "cannot remove: \(describe(errno: errno))")
        }
    }

    /// Flushes a directory's entries (renames and unlinks in it) to disk.
    public static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// The entries of `dir` (hidden ones included), sorted byte-wise.
    public static func list(_ dir: String) throws -> [String] {
        guard let d = opendir(dir) else { throw SynthError.file(dir, "cannot list: \(describe(errno: errno))") }
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

    public static func join(_ dir: String, _ file: String) -> String {
        dir.hasSuffix("/") ? dir + file : dir + "/" + file
    }

    /// The directory a path's file is in ("." for a bare name).
    public static func directory(of path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        return dir.isEmpty ? "." : dir
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// errno as the problem part of "FILE: problem" (strerror's words, lower case where synth rewords them).
    public static func describe(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or directory"
        case EACCES: return "permission denied"
        default: return String(cString: strerror(code))
        }
    }
}
