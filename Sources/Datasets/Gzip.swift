import CZlib
import Support
import Foundation

/// Transparent gunzip of whole files (IDX ships as .gz), with one-line errors that name the file.
enum Gzip {
    /// The bytes of `path`, gunzipped when the file starts with the gzip magic (1f 8b); any other
    /// file is returned as is, so callers accept both "x.gz" and its decompressed twin.
    static func read(_ path: String) throws -> [UInt8] {
        let raw = try Files.read(path)
        guard raw.count >= 2, raw[0] == 0x1f, raw[1] == 0x8b else { return raw }
        return try decompress(raw, path: path)
    }

    /// Decompresses a gzip file (one or more concatenated members) with zlib, which checks each
    /// member's CRC-32 and length, so corrupt or truncated input is an error, never short data.
    static func decompress(_ compressed: [UInt8], path: String) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + 15: expect a gzip wrapper around a deflate stream with a window of up to 32 KiB.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SynthError.file(path, "cannot start gzip decompression (out of memory)")
        }
        defer { inflateEnd(&stream) }
        func failure(_ what: String) -> SynthError {
            let detail = stream.msg.map { ": " + String(cString: $0) } ?? ""
            return SynthError.file(path, what + detail)
        }

        // The last member's ISIZE (length mod 2^32) is a good first guess of the output size.
        let n = compressed.count
        let isize = n >= 18
            ? Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
            : 0
        // Deflate cannot expand data more than ~1032:1, which bounds what a corrupt trailer can ask for.
        var out = [UInt8](repeating: 0, count: max(min(isize, n * 1032), 1 << 16))
        var filled = 0
        try compressed.withUnsafeBufferPointer { source in
            var consumed = 0
            while true {
                if filled == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
                let inChunk = min(source.count - consumed, Int(UInt32.max))
                let outChunk = min(out.count - filled, Int(UInt32.max))
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + consumed)
                stream.avail_in = UInt32(inChunk)
                let status = out.withUnsafeMutableBufferPointer { dst -> Int32 in
                    stream.next_out = dst.baseAddress! + filled
                    stream.avail_out = UInt32(outChunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                consumed += inChunk - Int(stream.avail_in)
                filled += outChunk - Int(stream.avail_out)
                switch status {
                case Z_STREAM_END:
                    guard consumed < source.count else { return }
                    guard source.count - consumed >= 2, source[consumed] == 0x1f, source[consumed + 1] == 0x8b else {
                        throw SynthError.file(path, "unexpected data after the gzip stream")
                    }
                    inflateReset(&stream)
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_out == 0:
                    continue
                case Z_BUF_ERROR:
                    throw SynthError.file(path, "truncated gzip data (the stream ends early)")
                case Z_MEM_ERROR:
                    throw failure("out of memory decompressing gzip data")
                default:
                    throw failure("corrupt gzip data")
                }
            }
        }
        out.removeSubrange(filled...)
        return out
    }
}
