import Crypto
import Foundation

/// Size, SHA-256 and MD5 of a file: what the manifest records per shard (md5sum is what WebDataset's
/// wids index carries; sha256 is what synth trusts).
public struct FileDigest: Equatable, Sendable {
    public var size: Int
    /// Lower-case hex.
    public var sha256: String
    public var md5: String

    public init(size: Int, sha256: String, md5: String) {
        self.size = size
        self.sha256 = sha256
        self.md5 = md5
    }

    /// The digest of bytes held in memory.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> FileDigest {
        var h = FileHasher()
        h.update(bytes)
        return h.finalize()
    }

    public static func of(_ bytes: [UInt8]) -> FileDigest {
        bytes.withUnsafeBytes { of($0) }
    }

    /// Reads `path` once and returns its bytes with their digest.
    public static func read(_ path: String) throws -> (bytes: [UInt8], digest: FileDigest) {
        let bytes = try Files.read(path)
        return (bytes, of(bytes))
    }

    /// SHA-256 of a file (models recorded in the manifest), lower-case hex.
    public static func sha256(ofFile path: String) throws -> String {
        try read(path).digest.sha256
    }
}

/// Incremental size + SHA-256 + MD5, fed in the order bytes are produced.
public struct FileHasher {
    private var sha = SHA256()
    private var md5 = Insecure.MD5()
    private var size = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        sha.update(bufferPointer: bytes)
        md5.update(bufferPointer: bytes)
        size += bytes.count
    }

    public func finalize() -> FileDigest {
        FileDigest(size: size, sha256: hex(sha.finalize()), md5: hex(md5.finalize()))
    }
}

func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
