import CArchive
import Foundation
import Support

/// Writes an uncompressed POSIX ustar archive through libarchive, reproducibly: the same members
/// in the same order give the same bytes, whoever writes them, wherever and whenever.
///
/// Every member is a regular file with mode 0444, uid/gid 0, empty uname/gname (numeric ids only:
/// GNU tar lists them as 0/0, Python's tarfile as ''), and mtime 0, or SOURCE_DATE_EPOCH when that
/// is set (the reproducible-builds convention). ustar has no atime/ctime fields and no pax
/// extended headers are written. The archive ends with the two zero blocks of the standard and is
/// padded to a whole 10240-byte record, as GNU tar and Python's tarfile pad theirs.
///
/// The writer writes `path` in place; callers that need atomicity write a temporary name and
/// rename it (the shard writer does). `finish()` fsyncs the file, so a rename after it is durable.
///
/// `init(streamingTo:)` writes an open descriptor instead (`synth build --out -`): every header
/// and member goes out as soon as it is added (no 10240-byte blocking to wait for), and `finish()`
/// pads the end itself, so the bytes are those the file writer would write for the same members.
/// A reader that closes the pipe is `TarStreamClosed`, not an error message.
public final class TarWriter {
    public let path: String
    /// The modification time every member gets.
    public let mtime: Int

    /// ustar's record size, and the multiple the archive is padded to.
    public static let recordSize = 10240

    private var archive: OpaquePointer?
    private let sink: FileSink
    private var finished = false
    /// Writing a descriptor it does not own (a stream): unblocked, padded by `finish`, not closed.
    private let streaming: Bool

    /// Members get mtime 0, or SOURCE_DATE_EPOCH when it is set.
    public convenience init(path: String) throws {
        try self.init(path: path, mtime: TarWriter.sourceDateEpoch(ProcessInfo.processInfo.environment))
    }

    convenience init(path: String, mtime: Int) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw SynthError.file(path, "cannot create: \(Files.describe(errno: errno))") }
        try self.init(fd: fd, path: path, mtime: mtime, streaming: false)
    }

    /// A tar stream on `fd` (left open), named `label` in messages; mtime as `init(path:)`.
    public convenience init(streamingTo fd: Int32, label: String) throws {
        try self.init(fd: fd, path: label, mtime: TarWriter.sourceDateEpoch(ProcessInfo.processInfo.environment), streaming: true)
    }

    private init(fd: Int32, path: String, mtime: Int, streaming: Bool) throws {
        self.path = path
        self.mtime = mtime
        self.streaming = streaming
        sink = FileSink(fd: fd)
        guard let a = archive_write_new() else {
            abandon()
            throw SynthError.file(path, "libarchive could not allocate a writer")
        }
        archive = a
        // A record of 10240 bytes, the last one padded to full size: explicit, so the output does
        // not depend on whether `path` is a regular file (libarchive's default when unset). A
        // stream is unblocked (0: each write goes straight out) and `finish` pads it the same way.
        guard archive_write_set_format_ustar(a) == ARCHIVE_OK,
              archive_write_add_filter_none(a) == ARCHIVE_OK,
              archive_write_set_bytes_per_block(a, streaming ? 0 : Int32(TarWriter.recordSize)) == ARCHIVE_OK,
              archive_write_set_bytes_in_last_block(a, 0) == ARCHIVE_OK,
              archive_write_open(a, Unmanaged.passUnretained(sink).toOpaque(), nil, fileSinkWrite, nil) == ARCHIVE_OK
        else {
            let message = failure("cannot start the archive")
            abandon()
            throw message
        }
    }

    deinit {
        if !finished { abandon() }
    }

    /// Appends a regular-file member holding `bytes`.
    public func add(name: String, bytes: UnsafeRawBufferPointer) throws {
        guard let a = archive, !finished else { throw SynthError.file(path, "add after finish or after an error") }
        guard !name.isEmpty, !name.utf8.contains(0) else { throw SynthError.file(path, "invalid member name '\(name)'") }
        guard let entry = archive_entry_new() else { throw SynthError.file(path, "libarchive could not allocate an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_mode(entry, Glibc.S_IFREG | 0o444)
        archive_entry_set_size(entry, la_int64_t(bytes.count))
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)

        let header = archive_write_header(a, entry)
        if header == ARCHIVE_FAILED {
            // This member cannot be represented (a name too long for ustar); the archive is intact.
            throw failure("member '\(name)' cannot be written")
        }
        guard header == ARCHIVE_OK else { throw fatal("member '\(name)'") }
        var done = 0
        while done < bytes.count {
            let wrote = archive_write_data(a, bytes.baseAddress! + done, bytes.count - done)
            guard wrote > 0 else { throw fatal("member '\(name)'") }
            done += wrote
        }
        guard archive_write_finish_entry(a) == ARCHIVE_OK else { throw fatal("member '\(name)'") }
    }

    public func add(name: String, bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try add(name: name, bytes: $0) }
    }

    /// Writes the end-of-archive blocks and padding, fsyncs and closes the file. Returns the size
    /// and hashes of every byte written, computed as the bytes went out (the file is not re-read).
    @discardableResult
    public func finish() throws -> FileDigest {
        guard let a = archive, !finished else { throw SynthError.file(path, "finish after finish or after an error") }
        guard archive_write_close(a) == ARCHIVE_OK else { throw fatal("closing the archive") }
        archive_write_free(a)
        archive = nil
        if streaming {
            // The end blocks are out; pad to a whole record as the blocked writer does.
            let padding = [UInt8](repeating: 0, count: (TarWriter.recordSize - sink.written % TarWriter.recordSize) % TarWriter.recordSize)
            let wrote = padding.withUnsafeBytes { sink.write($0.baseAddress!, $0.count) }
            finished = true
            guard wrote else { throw failure("padding the archive") }
            return sink.hasher.finalize()
        }
        finished = true
        var st = stat()
        if fstat(sink.fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, fsync(sink.fd) != 0 {
            let message = SynthError.file(path, "fsync failed: \(Files.describe(errno: errno))")
            close(sink.fd)
            throw message
        }
        guard close(sink.fd) == 0 else { throw SynthError.file(path, "close failed: \(Files.describe(errno: errno))") }
        return sink.hasher.finalize()
    }

    /// The failure of the last libarchive call as a SynthError; a write error of our own sink
    /// (errno and all) takes precedence over libarchive's generic text.
    private func failure(_ context: String) -> Error {
        if streaming && sink.errno == EPIPE { return TarStreamClosed() }
        if let errno = sink.errno { return SynthError.file(path, "write failed: \(Files.describe(errno: errno))") }
        let text = archive.flatMap { archive_error_string($0) }.map { String(cString: $0) } ?? "unknown libarchive error"
        return SynthError.file(path, "\(context): \(text)")
    }

    /// A failure that leaves the archive unusable: report it and release everything.
    private func fatal(_ context: String) -> Error {
        let error = failure(context)
        abandon()
        return error
    }

    /// Releases the archive without completing it: the file is left without end-of-archive blocks
    /// (so a reader sees it as truncated), and the descriptor is closed.
    private func abandon() {
        sink.discard = true
        if let a = archive { archive_write_free(a) }
        archive = nil
        if !finished && !streaming { close(sink.fd) }
        finished = true
    }

    /// mtime for members: SOURCE_DATE_EPOCH if set (it must be a decimal integer that ustar's
    /// 11 octal digits can hold), else 0.
    static func sourceDateEpoch(_ environment: [String: String]) throws -> Int {
        guard let text = environment["SOURCE_DATE_EPOCH"] else { return 0 }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text), value <= 0o77777777777 else {
            throw SynthError("SOURCE_DATE_EPOCH: '\(text)' is not a non-negative integer that fits a ustar header")
        }
        return value
    }
}

/// The reader of a tar stream closed it (EPIPE): the end a `--out -` consumer chooses, not a failure.
public struct TarStreamClosed: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the reader closed the stream" }
}

/// The descriptor libarchive's blocks go to, and the first write error, kept with its errno.
private final class FileSink {
    let fd: Int32
    var errno: Int32?
    /// Set when the archive is abandoned: libarchive's closing writes then go nowhere.
    var discard = false
    /// Every byte that reached the file, in order.
    var hasher = FileHasher()
    var written = 0
    init(fd: Int32) { self.fd = fd }

    /// Writes all of `buffer`, retrying short writes and EINTR; false (errno kept) on failure.
    func write(_ buffer: UnsafeRawPointer, _ length: Int) -> Bool {
        var done = 0
        while done < length {
            let wrote = Glibc.write(fd, buffer + done, length - done)
            if wrote < 0 {
                if Glibc.errno == EINTR { continue }
                errno = Glibc.errno
                return false
            }
            done += wrote
        }
        hasher.update(UnsafeRawBufferPointer(start: buffer, count: length))
        written += length
        return true
    }
}

private let fileSinkWrite: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Int = { _, context, buffer, length in
    let sink = Unmanaged<FileSink>.fromOpaque(context!).takeUnretainedValue()
    if sink.discard { return -1 }
    return sink.write(buffer!, length) ? length : -1
}

/// One regular-file member of a tar archive.
public struct TarMember: Sendable {
    public let name: String
    public let bytes: [UInt8]
    public var size: Int { bytes.count }
}

/// Reads the regular-file members of a tar archive (any tar dialect libarchive knows, plain or
/// gzip-compressed), in archive order, strictly: a damaged header, a truncated member, or an
/// archive that stops without its end-of-archive block is an error naming the file, never a
/// silently shorter list. Directories are skipped, as WebDataset's readers skip them; a member
/// that is a link, a device, a fifo or a socket, or whose name is absolute or holds `..`, is
/// refused (DESIGN "foreign shards"): nothing synth reads comes from outside the archive or is
/// named for a place outside its directory.
///
/// Allocation is bounded by the archive: a member's size must fit in the bytes after its header
/// (uncompressed) or in what the compressed file can expand to (deflate's 1032:1), and never
/// exceeds `maxMemberSize`.
public final class TarReader {
    public let path: String
    /// Members larger than this are refused before allocating for them.
    public static let maxMemberSize = 1 << 30

    private var archive: OpaquePointer?
    private let fd: Int32
    private let fileSize: Int
    private var done = false
    /// The last member read (of any type), to place errors in the archive.
    private var lastName: String?

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SynthError.file(path, Files.describe(errno: errno)) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            let problem = (st.st_mode & S_IFMT) == S_IFDIR ? "is a directory, not a tar archive" : "not a regular file"
            close(fd)
            throw SynthError.file(path, problem)
        }
        fileSize = Int(st.st_size)
        // From here on deinit runs if init throws, and closes `fd`.
        guard let a = archive_read_new() else { throw SynthError.file(path, "libarchive could not allocate a reader") }
        archive = a
        guard archive_read_support_format_tar(a) == ARCHIVE_OK,
              archive_read_support_filter_none(a) == ARCHIVE_OK,
              archive_read_support_filter_gzip(a) == ARCHIVE_OK,
              archive_read_open_fd(a, fd, 1 << 16) == ARCHIVE_OK
        else { throw fail() }
    }

    deinit {
        if let a = archive { archive_read_free(a) }
        close(fd)
    }

    /// The next regular-file member, or nil after the last one.
    public func next() throws -> TarMember? {
        while true {
            guard let a = archive, !done else { return nil }
            var entry: OpaquePointer?
            let status = archive_read_next_header(a, &entry)
            if status == ARCHIVE_EOF {
                try checkEndOfArchive(a)
                done = true
                return nil
            }
            // ARCHIVE_WARN comes with intact entries, e.g. a UTF-8 pax name that has no spelling in
            // the C locale; the UTF-8 name is used then.
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw fail(afterLast) }
            guard let name = (archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry)).map({ String(cString: $0) }) else {
                throw fail("a member name cannot be decoded" + (lastName.map { " (after member '\($0)')" } ?? ""))
            }
            let shown = TarReader.printable(name)
            lastName = shown
            if let problem = TarReader.hostileProblem(name: name, entry: entry) {
                throw SynthError.file(path, "member '\(shown)' \(problem); synth refuses absolute names, '..', links and devices in tar shards")
            }
            guard (archive_entry_filetype(entry) & Glibc.S_IFMT) == Glibc.S_IFREG else { continue }
            let size = Int(archive_entry_size(entry))
            guard size >= 0, size <= TarReader.maxMemberSize else {
                throw SynthError.file(path, "member '\(shown)' claims \(size) bytes, more than synth reads (at most \(TarReader.maxMemberSize) per member)")
            }
            // Uncompressed, the data must fit in what follows the header: a cut archive or a damaged
            // size field is caught before allocating for it.
            if archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE {
                let remaining = fileSize - Int(archive_read_header_position(a)) - 512
                guard size <= remaining else {
                    throw SynthError.file(path, "truncated tar archive: member '\(shown)' needs \(size) bytes but at most \(max(remaining, 0)) follow its header")
                }
            } else {
                // Compressed, what follows cannot expand more than deflate's 1032:1.
                let (most, overflow) = fileSize.multipliedReportingOverflow(by: 1032)
                guard overflow || size <= most else {
                    throw SynthError.file(path, "member '\(shown)' claims \(size) bytes, more than the \(fileSize)-byte compressed archive can hold")
                }
            }
            let bytes = try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                while count < size {
                    let got = archive_read_data(a, buffer.baseAddress! + count, size - count)
                    if got < 0 { throw fail("member '\(shown)'") }
                    if got == 0 { throw fail("member '\(shown)' ends after \(count) of \(size) bytes") }
                    count += got
                }
            }
            return TarMember(name: name, bytes: bytes)
        }
    }

    /// Why a member may not be read at all (DESIGN "foreign shards"), nil when it may: a name that
    /// is absolute or climbs with `..` would place a sample (or, for a tool that extracts, a file)
    /// outside the archive's directory; links and devices point at things outside the archive.
    /// Directories are harmless (skipped); every other non-regular type is refused.
    static func hostileProblem(name: String, entry: OpaquePointer) -> String? {
        if name.hasPrefix("/") { return "has an absolute name" }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains("..") { return "has '..' in its name" }
        if archive_entry_hardlink(entry) != nil { return "is a hard link" }
        switch archive_entry_filetype(entry) & Glibc.S_IFMT {
        case Glibc.S_IFREG, Glibc.S_IFDIR: return nil
        case Glibc.S_IFLNK: return "is a symbolic link"
        case Glibc.S_IFCHR: return "is a character device"
        case Glibc.S_IFBLK: return "is a block device"
        case Glibc.S_IFIFO: return "is a fifo"
        case Glibc.S_IFSOCK: return "is a socket"
        default: return "is not a regular file or directory"
        }
    }

    /// A member name as part of a message: one line (`SynthError.oneLine`), at most 200
    /// characters (a pax name can be as long as the archive).
    public static func printable(_ name: String) -> String {
        let shown = SynthError.oneLine(String(name.unicodeScalars.prefix(200)))
        return name.unicodeScalars.count > 200 ? shown + "..." : shown
    }

    /// Every remaining member, in archive order.
    public func readAll() throws -> [TarMember] {
        var out: [TarMember] = []
        while let m = try next() { out.append(m) }
        return out
    }

    public static func members(of path: String) throws -> [TarMember] {
        try TarReader(path: path).readAll()
    }

    /// libarchive reports end of archive both at the zero block that marks it and at a clean cut
    /// between members; only the first is a complete archive. Its header position is where the
    /// end block was looked for, and a zero block there has been consumed when one was found.
    private func checkEndOfArchive(_ a: OpaquePointer) throws {
        let end = archive_read_header_position(a)
        let consumed = archive_filter_bytes(a, 0)
        guard consumed >= end + 512 else {
            throw SynthError.file(path, "truncated tar archive: no end-of-archive block " + (afterLast ?? "at the start"))
        }
    }

    private var afterLast: String? { lastName.map { "after member '\($0)'" } }

    private func fail(_ context: String? = nil) -> SynthError {
        let text = archive.flatMap { archive_error_string($0) }.map { TarReader.printable(String(cString: $0)) } ?? "unreadable tar archive"
        return SynthError.file(path, context.map { "\($0): \(text)" } ?? text)
    }
}
