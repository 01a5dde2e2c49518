import Foundation
@testable import Shards
import Support
import TestSupport
import Testing

@Suite struct TarTests {
    /// Member contents Python can recompute: byte i of a member is (i * 7 + seed) mod 256.
    static func content(_ size: Int, seed: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 + seed) }
    }

    /// Sizes around the 512-byte block and the 10240-byte record, and one sample's worth of members.
    static let members: [(String, Int)] = [
        ("000000000.cls", 1), ("000000000.json", 511), ("000000000.png", 512),
        ("000000001.cls", 0), ("000000001.json", 513), ("000000001.png", 10240),
        ("000000002.cls", 2), ("000000002.json", 9000), ("000000002.png", 70_001),
    ]

    static func writeSample(_ path: String, mtime: Int = 0) throws {
        let w = try TarWriter(path: path, mtime: mtime)
        for (i, (name, size)) in members.enumerated() { try w.add(name: name, bytes: content(size, seed: i)) }
        try w.finish()
    }

    static func bytes(_ path: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path) ?? Data()) }

    @Test func roundTrip() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("shard-000000.tar")
        try Self.writeSample(path)
        let read = try TarReader.members(of: path)
        #expect(read.map(\.name) == Self.members.map(\.0))
        for (i, m) in read.enumerated() {
            #expect(m.size == Self.members[i].1)
            #expect(m.bytes == Self.content(Self.members[i].1, seed: i), "\(m.name)")
        }
        // Headers, data padded to 512-byte blocks, two end blocks, padded to a 10240-byte record.
        let payload = Self.members.reduce(0) { $0 + 512 + ($1.1 + 511) / 512 * 512 } + 1024
        let size = Self.bytes(path).count
        #expect(size % TarWriter.recordSize == 0 && size >= payload && size - payload < TarWriter.recordSize)
    }

    @Test func emptyArchiveIsOneZeroRecord() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("empty.tar")
        try TarWriter(path: path, mtime: 0).finish()
        #expect(Self.bytes(path) == [UInt8](repeating: 0, count: TarWriter.recordSize))
        #expect(try TarReader.members(of: path).isEmpty)
    }

    @Test func headersAreReproducible() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("a.tar")
        try Self.writeSample(path)
        let bytes = Self.bytes(path)
        // The first header, field by field (ustar offsets): mode, uid, gid, mtime, type, magic, names.
        func field(_ offset: Int, _ length: Int) -> String {
            String(decoding: bytes[offset..<(offset + length)].prefix { $0 != 0 }, as: UTF8.self)
        }
        #expect(field(0, 100) == "000000000.cls")
        #expect(Int(field(100, 8).trimmingCharacters(in: .whitespaces), radix: 8) == 0o444)
        #expect(Int(field(108, 8).trimmingCharacters(in: .whitespaces), radix: 8) == 0)
        #expect(Int(field(116, 8).trimmingCharacters(in: .whitespaces), radix: 8) == 0)
        #expect(Int(field(136, 12).trimmingCharacters(in: .whitespaces), radix: 8) == 0)
        #expect(bytes[156] == UInt8(ascii: "0"))
        #expect(Array(bytes[257..<265]) == Array("ustar\u{0}00".utf8))
        #expect(field(265, 32).isEmpty && field(297, 32).isEmpty)
        // No pax extended header ('x') or GNU long-name ('L') member anywhere.
        var offset = 0
        for (_, size) in Self.members {
            #expect(bytes[offset + 156] == UInt8(ascii: "0"))
            offset += 512 + (size + 511) / 512 * 512
        }
    }

    @Test func identicalInputGivesIdenticalBytesUnderAnotherTimeZoneAndUmask() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let a = dir.file("a.tar"), b = dir.file("b.tar"), c = dir.file("c.tar")
        try Self.writeSample(a)
        try Self.writeSample(b)
        #expect(Self.bytes(a) == Self.bytes(b))

        // TZ and umask are process-wide: changed only around this one write, then restored.
        let oldTZ = getenv("TZ").map { String(cString: $0) }
        setenv("TZ", "Pacific/Kiritimati", 1); tzset()
        let oldMask = umask(0o077)
        defer {
            umask(oldMask)
            if let oldTZ { setenv("TZ", oldTZ, 1) } else { unsetenv("TZ") }
            tzset()
        }
        try Self.writeSample(c)
        #expect(Self.bytes(a) == Self.bytes(c))
    }

    @Test func sourceDateEpochSetsMtime() throws {
        #expect(try TarWriter.sourceDateEpoch([:]) == 0)
        #expect(try TarWriter.sourceDateEpoch(["SOURCE_DATE_EPOCH": "1700000000"]) == 1_700_000_000)
        for bad in ["", "-5", "1.5", "abc", " 12", "99999999999999"] {
            #expect(throws: SynthError.self, "'\(bad)'") { try TarWriter.sourceDateEpoch(["SOURCE_DATE_EPOCH": bad]) }
        }
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("dated.tar")
        try Self.writeSample(path, mtime: 1_700_000_000)
        let bytes = Self.bytes(path)
        #expect(String(decoding: bytes[136..<147], as: UTF8.self) == String(1_700_000_000, radix: 8).leftPadded(to: 11))
    }

    // MARK: Errors

    func expectFileError(_ path: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("no error, expected '\(fragment)'", sourceLocation: sourceLocation)
        } catch let error as SynthError {
            #expect(error.message.hasPrefix(path + ": "), "\(error.message)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
            #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a SynthError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(.enabled(if: FileManager.default.isWritableFile(atPath: "/dev/full"), "/dev/full is not writable here: full-disk case skipped"))
    func fullDiskIsAnErrorNamingTheFile() throws {
        // Small members fit in libarchive's first record, so the failure surfaces when it is flushed.
        expectFileError("/dev/full", "write failed: No space left on device") {
            let w = try TarWriter(path: "/dev/full", mtime: 0)
            try w.add(name: "0.cls", bytes: [49])
            try w.finish()
        }
        // A member larger than a record fails while it is being added.
        expectFileError("/dev/full", "write failed: No space left on device") {
            let w = try TarWriter(path: "/dev/full", mtime: 0)
            try w.add(name: "0.png", bytes: Self.content(50_000, seed: 0))
            Issue.record("adding 50000 bytes to /dev/full succeeded")
        }
    }

    @Test func writerMisuseAndUnwritableNamesAreErrors() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("x.tar")
        expectFileError(dir.file("missing/x.tar"), "cannot create: no such file or directory") {
            _ = try TarWriter(path: dir.file("missing/x.tar"), mtime: 0)
        }
        let w = try TarWriter(path: path, mtime: 0)
        expectFileError(path, "invalid member name") { try w.add(name: "", bytes: []) }
        expectFileError(path, "member '\(String(repeating: "a", count: 120))' cannot be written") {
            try w.add(name: String(repeating: "a", count: 120), bytes: [1])
        }
        try w.add(name: "ok.cls", bytes: [1])
        try w.finish()
        expectFileError(path, "add after finish") { try w.add(name: "late.cls", bytes: [1]) }
        expectFileError(path, "finish after finish") { try w.finish() }
        #expect(try TarReader.members(of: path).map(\.name) == ["ok.cls"])
    }

    @Test func abandonedWriterLeavesAnArchiveTheReaderRejects() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("abandoned.tar")
        do {
            let w = try TarWriter(path: path, mtime: 0)
            try w.add(name: "0.png", bytes: Self.content(30_000, seed: 1))
        }
        expectFileError(path, "truncated") { _ = try TarReader.members(of: path) }
    }

    /// A valid archive cut or damaged in `mutate`, which must fail to read.
    func expectCorruptionDetected(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ mutate: (inout [UInt8]) -> Void) throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("bad.tar")
        try Self.writeSample(path)
        var bytes = Self.bytes(path)
        mutate(&bytes)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        expectFileError(path, fragment, sourceLocation: sourceLocation) { _ = try TarReader.members(of: path) }
    }

    /// Where member `index`'s header starts in the sample archive.
    static func headerOffset(_ index: Int) -> Int {
        members.prefix(index).reduce(0) { $0 + 512 + ($1.1 + 511) / 512 * 512 }
    }

    @Test func truncatedInTheMiddleOfAMember() throws {
        try expectCorruptionDetected("truncated tar archive: member '000000002.png' needs 70001 bytes but at most 30000 follow its header") {
            $0.removeSubrange((Self.headerOffset(8) + 512 + 30_000)...)
        }
    }

    @Test func truncatedInTheMiddleOfAHeader() throws {
        try expectCorruptionDetected("after member '000000001.json': Truncated tar archive") {
            $0.removeSubrange((Self.headerOffset(5) + 200)...)
        }
    }

    @Test func truncatedBetweenMembers() throws {
        try expectCorruptionDetected("truncated tar archive: no end-of-archive block after member '000000000.png'") {
            $0.removeSubrange(Self.headerOffset(3)...)
        }
    }

    @Test func truncatedInTheEndBlock() throws {
        try expectCorruptionDetected("runcated") { $0.removeSubrange((Self.headerOffset(9) + 100)...) }
    }

    @Test func damagedHeaderChecksum() throws {
        try expectCorruptionDetected("after member '000000001.cls': Damaged tar archive") { $0[Self.headerOffset(4) + 3] ^= 0x20 }
    }

    @Test func absurdMemberSizeIsRefusedBeforeAllocating() throws {
        // A size field of 8 GiB with a correct checksum: a well-formed header that lies.
        try expectCorruptionDetected("member '000000000.json' claims 8589934591 bytes, more than synth reads") { bytes in
            let o = Self.headerOffset(1)
            bytes.replaceSubrange((o + 124)..<(o + 136), with: Array("77777777777\u{0}".utf8))
            let sum = (o..<(o + 512)).reduce(0) { $0 + ((o + 148..<o + 156).contains($1) ? 32 : Int(bytes[$1])) }
            bytes.replaceSubrange((o + 148)..<(o + 156), with: Array(String(sum, radix: 8).leftPadded(to: 6).utf8) + [0, 32])
        }
    }

    @Test func notATarFileAndMissingFiles() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let text = dir.file("notes.txt"), empty = dir.file("empty.tar")
        #expect(FileManager.default.createFile(atPath: text, contents: Data(String(repeating: "hello tar\n", count: 200).utf8)))
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        expectFileError(text, "Unrecognized archive format") { _ = try TarReader.members(of: text) }
        expectFileError(empty, "Unrecognized archive format") { _ = try TarReader.members(of: empty) }
        expectFileError(dir.file("nope.tar"), "no such file or directory") { _ = try TarReader.members(of: dir.file("nope.tar")) }
        expectFileError(dir.path, "is a directory") { _ = try TarReader.members(of: dir.path) }
    }

    // MARK: Other tools

    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is unset or not executable: Python tarfile comparison skipped"))
    func pythonTarfileListsTheMembers() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("shard.tar")
        try Self.writeSample(path)
        let output = try #require(ReferencePython.run("""
            import sys, tarfile, json
            with tarfile.open(sys.argv[1], "r:") as t:
                rows = []
                for m in t.getmembers():
                    data = t.extractfile(m).read()
                    rows.append([m.name, m.size, m.mode, m.mtime, m.uid, m.gid, m.uname, m.gname,
                                 m.isreg(), sorted(m.pax_headers), list(data)])
            print(json.dumps(rows))
            """, [path]))
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[Any]])
        #expect(rows.map { $0[0] as? String } == Self.members.map(\.0))
        for (i, row) in rows.enumerated() {
            #expect(row[1] as? Int == Self.members[i].1)
            #expect(row[2] as? Int == 0o444)
            #expect(row[3] as? Int == 0)
            #expect(row[4] as? Int == 0 && row[5] as? Int == 0)
            #expect(row[6] as? String == "" && row[7] as? String == "")
            #expect(row[8] as? Bool == true)
            #expect((row[9] as? [Any])?.isEmpty == true)
            #expect((row[10] as? [Int])?.map(UInt8.init) == Self.content(Self.members[i].1, seed: i))
        }
    }

    /// The fields of a ustar header, numbers decoded (writers differ in how they pad them).
    static func headerFields(_ block: ArraySlice<UInt8>) -> [String] {
        let b = Array(block)
        func text(_ o: Int, _ n: Int) -> String { String(decoding: b[o..<(o + n)].prefix { $0 != 0 }, as: UTF8.self) }
        func number(_ o: Int, _ n: Int) -> String {
            let digits = text(o, n).trimmingCharacters(in: .whitespaces)
            return digits.isEmpty ? "0" : String(Int(digits, radix: 8) ?? -1)
        }
        return [text(0, 100), number(100, 8), number(108, 8), number(116, 8), number(124, 12), number(136, 12),
                text(156, 1), text(157, 100), String(decoding: b[257..<265], as: UTF8.self), text(265, 32), text(297, 32),
                number(329, 8), number(337, 8), text(345, 155)]
    }

    /// Whether a header's checksum field matches its bytes (the field counted as spaces).
    static func checksumIsValid(_ block: ArraySlice<UInt8>) -> Bool {
        let b = Array(block)
        let sum = b.enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 32 : Int($1.element)) }
        let stored = String(decoding: b[148..<156].prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        return Int(stored, radix: 8) == sum
    }

    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is unset or not executable: Python tarfile comparison skipped"))
    func sameArchiveAsPythonTarfileUstar() throws {
        // Python's tarfile writing the same members as ustar with the same header values must give
        // the same archive: identical layout, data, end blocks and record padding, and headers with
        // equal field values. Only the spelling of numeric fields differs (libarchive writes
        // "000444 \0", tarfile "0000444\0"; both standard), and so the checksums.
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let ours = dir.file("ours.tar"), theirs = dir.file("theirs.tar")
        try Self.writeSample(ours)
        let spec = Self.members.map { "[\"\($0.0)\", \($0.1)]" }.joined(separator: ",")
        ReferencePython.run("""
            import sys, io, json, tarfile
            with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
                for i, (name, size) in enumerate(json.loads(sys.argv[2])):
                    info = tarfile.TarInfo(name)
                    info.size, info.mode, info.mtime, info.uid, info.gid = size, 0o444, 0, 0, 0
                    info.uname = info.gname = ""
                    t.addfile(info, io.BytesIO(bytes((k * 7 + i) % 256 for k in range(size))))
            """, [theirs, "[\(spec)]"])
        let a = Self.bytes(ours), b = Self.bytes(theirs)
        try #require(a.count == b.count)
        var headers = Set<Int>()
        for i in Self.members.indices {
            let o = Self.headerOffset(i)
            headers.insert(o)
            #expect(Self.headerFields(a[o..<(o + 512)]) == Self.headerFields(b[o..<(o + 512)]), "\(Self.members[i].0)")
            #expect(Self.checksumIsValid(a[o..<(o + 512)]) && Self.checksumIsValid(b[o..<(o + 512)]))
        }
        for block in stride(from: 0, to: a.count, by: 512) where !headers.contains(block) {
            #expect(a[block..<(block + 512)] == b[block..<(block + 512)], "block at \(block)")
        }
    }

    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is unset or not executable: Python tarfile comparison skipped"))
    func readsWhatPythonTarfileWrites() throws {
        // tarfile's default (pax) format, a directory member to skip, a long and a non-ASCII name,
        // and the same archive gzip-compressed.
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let plain = dir.file("py.tar"), gzipped = dir.file("py.tar.gz")
        let long = "deep/" + String(repeating: "d", count: 150) + "/000000007.png"
        ReferencePython.run("""
            import sys, io, tarfile
            for path, mode in ((sys.argv[1], "w"), (sys.argv[2], "w:gz")):
                with tarfile.open(path, mode) as t:
                    d = tarfile.TarInfo("deep"); d.type = tarfile.DIRTYPE; d.mode = 0o755
                    t.addfile(d)
                    for i, name in enumerate(["000000007.cls", sys.argv[3], "größe-✓.json", "empty.txt"]):
                        data = bytes((k * 7 + i) % 256 for k in range(0 if name == "empty.txt" else 1000 * i + 3))
                        info = tarfile.TarInfo(name); info.size = len(data); info.mtime = 1234567890
                        t.addfile(info, io.BytesIO(data))
            """, [plain, gzipped, long])
        // Cut in the middle, the compressed archive is an error too (libarchive's gzip reader).
        let cut = dir.file("cut.tar.gz")
        let gz = Self.bytes(gzipped)
        #expect(FileManager.default.createFile(atPath: cut, contents: Data(gz.prefix(gz.count / 2))))
        expectFileError(cut, "truncated gzip input") { _ = try TarReader.members(of: cut) }

        for path in [plain, gzipped] {
            let members = try TarReader.members(of: path)
            #expect(members.map(\.name) == ["000000007.cls", long, "größe-✓.json", "empty.txt"], "\(path)")
            for (i, m) in members.enumerated() {
                #expect(m.bytes == Self.content(m.name == "empty.txt" ? 0 : 1000 * i + 3, seed: i), "\(m.name)")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tar"), "GNU tar (/usr/bin/tar) not installed: listing check skipped"))
    func gnuTarListsTheMembers() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("shard.tar")
        try Self.writeSample(path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = ["--numeric-owner", "--full-time", "-tvf", path]
        process.environment = ["TZ": "UTC", "LC_ALL": "C", "PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let listing = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let warnings = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(warnings.isEmpty, "\(warnings)")
        let expected = Self.members.map { name, size in
            "-r--r--r-- 0/0 \(String(size).leftPadded(to: 12, with: " ")) 1970-01-01 00:00:00 \(name)"
        }
        let lines = listing.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines == expected.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") })
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
