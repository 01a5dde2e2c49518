/// The exact bytes TarWriter (libarchive's ustar writer with synth's settings) produces, checked
/// field by field when verifying a synth shard: every header byte, every padding byte and the end
/// of the archive are accounted for, so damage anywhere but inside member data is placed at the
/// member (and so the sample) it hit. Foreign archives are read with TarReader instead.
public enum UstarLayout {
    public struct Member {
        public let name: String
        /// Where the member's data lies in the archive.
        public let data: Range<Int>
    }

    public struct Problem: Error {
        /// The member the problem was found in or after (nil at the start of the archive).
        public let member: String?
        public let message: String
    }

    /// The header TarWriter writes for a regular file `name` of `size` bytes and modification time `mtime`.
    static func header(name: [UInt8], size: Int, mtime: Int) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        for (i, b) in name.prefix(100).enumerated() { h[i] = b }
        func put(_ text: String, at offset: Int) { for (i, b) in text.utf8.enumerated() { h[offset + i] = b } }
        func octal(_ value: Int, digits: Int) -> String {
            let s = String(value, radix: 8)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        put("000444 \0", at: 100)
        put("000000 \0", at: 108)
        put("000000 \0", at: 116)
        put(octal(size, digits: 11) + " ", at: 124)
        put(octal(mtime, digits: 11) + " ", at: 136)
        put("        ", at: 148)
        h[156] = UInt8(ascii: "0")
        put("ustar\000", at: 257)
        put("000000 \0", at: 329)
        put("000000 \0", at: 337)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, digits: 6) + "\0 ", at: 148)
        return h
    }

    /// Walks a synth shard. Every header must be exactly `header(...)` for its name and size (with
    /// one mtime for the whole archive), data padding zero, then two zero blocks and zero padding
    /// to a whole 10240-byte record, and nothing after.
    public static func scan(_ bytes: UnsafeRawBufferPointer) throws -> [Member] {
        var members: [Member] = []
        var at = 0
        var mtime: Int?
        let count = bytes.count
        func last() -> String? { members.last?.name }
        func isZero(_ range: Range<Int>) -> Bool {
            for i in range where bytes[i] != 0 { return false }
            return true
        }
        while true {
            guard at + 512 <= count else {
                throw Problem(member: last(), message: "truncated: no end-of-archive block")
            }
            if isZero(at..<(at + 512)) { break }
            // Name: NUL-terminated within 100 bytes.
            let nameBytes = Array(UnsafeRawBufferPointer(rebasing: bytes[at..<(at + 100)]).prefix { $0 != 0 })
            let name = String(decoding: nameBytes, as: UTF8.self)
            let shown = name.isEmpty ? last() : name
            func field(_ offset: Int, _ length: Int) -> Int? {
                var v = 0, seen = false
                for i in offset..<(offset + length) {
                    let b = bytes[at + i]
                    if b >= 48 && b <= 55 { v = v * 8 + Int(b - 48); seen = true } else { break }
                }
                return seen ? v : nil
            }
            guard let size = field(124, 11), let t = field(136, 11) else {
                throw Problem(member: shown, message: "header of member '\(name)' is damaged (size or mtime field)")
            }
            if mtime == nil { mtime = t }
            let expected = header(name: nameBytes, size: size, mtime: mtime!)
            for i in 0..<512 where bytes[at + i] != expected[i] {
                throw Problem(member: shown, message: "header of member '\(name)' is damaged (byte \(i) of its header: \(describe(i)))")
            }
            let start = at + 512
            let padded = (size + 511) / 512 * 512
            guard start + padded <= count else {
                throw Problem(member: shown, message: "member '\(name)' is truncated")
            }
            guard isZero((start + size)..<(start + padded)) else {
                throw Problem(member: shown, message: "padding after member '\(name)' is not zero")
            }
            members.append(Member(name: name, data: start..<(start + size)))
            at = start + padded
        }
        guard at + 1024 <= count, isZero(at..<count) else {
            throw Problem(member: last(), message: at + 1024 > count ? "truncated end-of-archive blocks"
                          : "non-zero bytes after the end of the archive")
        }
        guard count % TarWriter.recordSize == 0, count - (at + 1024) < TarWriter.recordSize else {
            throw Problem(member: last(), message: "archive size \(count) is not padded to one 10240-byte record")
        }
        return members
    }

    private static func describe(_ offset: Int) -> String {
        switch offset {
        case 0..<100: return "name"
        case 100..<108: return "mode"
        case 108..<124: return "uid/gid"
        case 124..<136: return "size"
        case 136..<148: return "mtime"
        case 148..<156: return "checksum"
        case 156: return "type"
        case 157..<257: return "link name"
        case 257..<265: return "magic"
        case 265..<329: return "owner names"
        case 329..<345: return "device numbers"
        default: return "prefix/padding"
        }
    }
}
