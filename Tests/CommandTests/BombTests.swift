import Foundation
import Shards
import Support
import TestSupport
import Testing

/// Files whose headers claim far more than they hold (issue 18): each is refused with exit 2 and
/// one line naming the file, and the peak RSS of the `synth` process that read it (printed, and
/// recorded in BENCHMARKS.md) stays under a bound far below what the header claims.
@Suite(.serialized) struct BombTests {
    /// What synth needs before it reads anything (runtime, Foundation, OpenBLAS) is well under this.
    static let baselineMiB = 120.0

    static func gzip(_ bytes: [UInt8], in dir: ScratchDirectory) throws -> [UInt8] {
        let raw = dir.file("gzip-input-\(UUID().uuidString)")
        try Data(bytes).write(to: URL(fileURLWithPath: raw))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c", "-n", raw]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0)
        return Array(data)
    }

    static func idxHeader(_ dims: [Int]) -> [UInt8] {
        var h: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { h += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return h
    }

    /// Runs `synth preview SPEC`, which loads the spec, and checks the refusal and the peak RSS.
    func expectRefused(_ spec: String, naming file: String, _ fragment: String, underMiB bound: Double, _ what: String) throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let r = try PeakRSS.run(["preview", spec, "--out", dir.file("grid.png")])
        let limit = PeakRSS.limit(bound)
        print("bomb \(what): exit \(r.status), peak RSS \(String(format: "%.1f", r.peakMiB)) MiB (bound \(limit) MiB): \(r.stderr.trimmingCharacters(in: .newlines))")
        #expect(r.status == 2, "\(what): \(r.stderr)")
        #expect(r.stderr.hasPrefix("synth: \(file): ") && r.stderr.contains(fragment), "\(what): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(what): \(r.stderr)")
        #expect(r.peakMiB < limit, "\(what): peak RSS \(r.peakMiB) MiB")
    }

    /// The issue's case: a gzip IDX whose header claims 7.8 GB with 800 MB of zeros behind it
    /// (800 concatenated gzip members, 0.8 MB on disk). Before the fix synth inflated all 800 MB
    /// (peak RSS 850 MB) before noticing; now the header alone refuses it.
    @Test func gzipIDXClaimingGigabytes() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let zeros = try Self.gzip([UInt8](repeating: 0, count: 1 << 20), in: dir)
        func bomb(_ dims: [Int], megabytes: Int) throws -> String {
            var file = try Self.gzip(Self.idxHeader(dims), in: dir)
            for _ in 0..<megabytes { file += zeros }
            let path = dir.file("images-\(dims.map(String.init).joined(separator: "x")).gz")
            try Data(file).write(to: URL(fileURLWithPath: path))
            return path
        }
        let labels = dir.file("labels.gz")
        try Data(try Self.gzip(Self.idxHeader([1]) + [0], in: dir)).write(to: URL(fileURLWithPath: labels))

        // 10,000,000 x 28 x 28 = 7.84 GB: above the 2 GiB cap.
        let claim = try bomb([10_000_000, 28, 28], megabytes: 800)
        try expectRefused("idx:\(claim),\(labels)", naming: claim, "more than the 2147483648 bytes", underMiB: Self.baselineMiB, "gzip IDX claiming 7.8 GB")
        // 1.5 GB, under the cap, but more than 0.8 MB of gzip can expand to (1032:1).
        let implausible = try bomb([1_500_000, 1000, 1], megabytes: 800)
        try expectRefused("idx:\(implausible),\(labels)", naming: implausible, "gzip file can hold", underMiB: Self.baselineMiB, "gzip IDX claiming 1.5 GB from 0.8 MB")
        // 100 MB promised, 800 MB present: decompression stops at 100 MB (and one byte).
        let longer = try bomb([100, 1000, 1000], megabytes: 800)
        try expectRefused("idx:\(longer),\(labels)", naming: longer, "the gzip stream holds more", underMiB: Self.baselineMiB + 100, "gzip IDX promising 100 MB holding 800 MB")
    }

    /// A PNG header is 33 bytes: one claiming 16384 x 16384 RGB (768 MB) is above the 256 MiB
    /// cap; one claiming 8000 x 8000 gray (64 MB, under the cap) is more than its ~60 bytes hold.
    @Test func pngClaimingHugeDimensions() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        for (width, height, colour, fragment) in [(16384, 16384, UInt8(2), "too large"), (8000, 8000, UInt8(0), "more than")] {
            let folder = dir.file("png-\(width)")
            try FileManager.default.createDirectory(atPath: folder + "/0", withIntermediateDirectories: true)
            let path = folder + "/0/a.png"
            try Data(Self.pngHeaderOnly(width: width, height: height, colourType: colour)).write(to: URL(fileURLWithPath: path))
            try expectRefused("folder:\(folder)", naming: path, fragment, underMiB: Self.baselineMiB, "PNG claiming \(width)x\(height)")
        }
    }

    /// Tar members whose size fields claim more than the archive holds: uncompressed, 8 GiB
    /// (above the 1 GiB member cap) and 900 MB (cut archive); gzip-compressed, 1 GiB from a few
    /// hundred bytes (more than deflate can expand them to).
    @Test func tarMemberClaimingGigabytes() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let cases: [(String, Int, Bool, String)] = [
            ("tar member claiming 8 GiB", 8 << 30, false, "more than synth reads (at most 1073741824 per member)"),
            ("tar member claiming 900 MB", 900_000_000, false, "truncated tar archive"),
            ("gzip tar member claiming 1 GiB", 1 << 30, true, "compressed archive can hold"),
        ]
        for (i, (what, size, compressed, fragment)) in cases.enumerated() {
            let shards = dir.file("shards\(i)")
            try FileManager.default.createDirectory(atPath: shards, withIntermediateDirectories: true)
            var tar = HandBuiltTar()
            tar.add("000000.png", Array("tiny".utf8), claimedSize: size)
            let bytes = compressed ? try Self.gzip(tar.finished, in: dir) : tar.finished
            let path = Files.join(shards, "foreign-000000.tar")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try expectRefused("shards:\(shards)", naming: path, fragment, underMiB: Self.baselineMiB, what)
        }
    }

    /// manifest.json is read whole: a 300 MB one (sparse) is refused by its size before reading.
    @Test func oversizedManifest() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let shards = dir.file("built")
        try FileManager.default.createDirectory(atPath: shards, withIntermediateDirectories: true)
        let path = Files.join(shards, "manifest.json")
        FileManager.default.createFile(atPath: path, contents: Data("{".utf8))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 300_000_000)
        try handle.close()
        try expectRefused("shards:\(shards)", naming: path, "more than the \(Manifest.maxFileSize)", underMiB: Self.baselineMiB, "manifest.json of 300 MB")
    }

    /// A safetensors header length (8 bytes) claiming 90 MB in a 64-byte file, and a shape of
    /// 2^40 elements over 4 bytes of data: both refused from the header, nothing allocated for them.
    @Test func safetensorsClaimingMoreThanTheFile() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var long = withUnsafeBytes(of: UInt64(90_000_000).littleEndian) { Array($0) }
        long += Array(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
        let json = Array(#"{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4]}}"#.utf8)
        let shape = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json + [0, 0, 0, 0]
        for (name, bytes, fragment) in [("long-header", long, "runs past the end"), ("huge-shape", shape, "needs 1099511627776 x 4 bytes")] {
            let path = dir.file("\(name).safetensors")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let r = try PeakRSS.run(["eval", "--model", path, "--data", "idx:/nonexistent,/nonexistent"])
            print("bomb safetensors \(name): exit \(r.status), peak RSS \(String(format: "%.1f", r.peakMiB)) MiB: \(r.stderr.trimmingCharacters(in: .newlines))")
            #expect(r.status == 2 && r.stderr.contains(path) && r.stderr.contains(fragment), "\(name): \(r.stderr)")
            #expect(r.peakMiB < PeakRSS.limit(Self.baselineMiB), "\(name): peak RSS \(r.peakMiB) MiB")
        }
    }

    /// Only the IHDR chunk (with its CRC) and IEND: what a reader sees before any pixel data.
    static func pngHeaderOnly(width: Int, height: Int, colourType: UInt8) -> [UInt8] {
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(data.count) + body + be32(Int(crc32(body)))
        }
        return [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
            + chunk("IHDR", be32(width) + be32(height) + [8, colourType, 0, 0, 0])
            + chunk("IDAT", [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + chunk("IEND", [])
    }

    /// CRC-32 (ISO 3309), as PNG chunks carry it.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
