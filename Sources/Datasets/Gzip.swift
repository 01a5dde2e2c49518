import CZlib
import Support
import Foundation

/// Transparent gunzip of whole files (IDX ships as .gz), with one-line errors that name the file.
/// Output is bounded: a caller says how much it expects (`limit`), and decompression stops there
/// rather than inflate whatever a small hostile file expands to.
enum Gzip {
    /// Deflate cannot expand data more than this (a 258-byte match costs at least 2 bits), so a
    /// compressed file of N bytes holds at most N x 1032 bytes of output.
    static let maxExpansion = 1032

    /// What `decompress` produced: at most `limit` bytes, and whether the stream holds more.
    struct Output {
        var bytes: [UInt8]
        /// The stream goes on past `limit` (the rest was not inflated, nor its CRC checked).
        var exceedsLimit: Bool
    }

    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// The most output `compressedCount` bytes of gzip can hold (saturating).
    static func mostOutput(ofCompressed compressedCount: Int) -> Int {
        let (most, overflow) = compressedCount.multipliedReportingOverflow(by: maxExpansion)
        return overflow ? Int.max : most
    }

    /// Decompresses a gzip file (one or more concatenated members) with zlib, which checks each
    /// member's CRC-32 and length, so corrupt or truncated input is an error, never short data.
    /// Stops after `limit` output bytes: then `exceedsLimit` says whether one more byte follows.
    /// Memory grows with the output actually produced, never past `limit` or what the input can hold.
    static func decompress(_ compressed: [UInt8], path: String, limit: Int = Int.max) throws -> Output {
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

        // The last member's ISIZE (length mod 2^32) is a good first guess of the output size; it
        // is only a guess, so the buffer never starts beyond the limit or what the input can hold.
        let n = compressed.count
        let isize = n >= 18
            ? Int(compressed[n - 4]) | Int(compressed[n - 3]) << 8 | Int(compressed[n - 2]) << 16 | Int(compressed[n - 1]) << 24
            : 0
        let ceiling = min(limit, mostOutput(ofCompressed: n))
        var out = [UInt8](repeating: 0, count: min(ceiling, max(isize, 1 << 16)))
        var filled = 0
        var probe: UInt8 = 0
        let exceeded = try compressed.withUnsafeBufferPointer { source -> Bool in
            var consumed = 0
            while true {
                if filled == out.count && out.count < ceiling {
                    out.append(contentsOf: repeatElement(0, count: min(max(out.count, 1 << 16), ceiling - out.count)))
                }
                let inChunk = min(source.count - consumed, Int(UInt32.max))
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + consumed)
                stream.avail_in = UInt32(inChunk)
                let status: Int32
                if filled == out.count {
                    // At the limit: one more byte of output means the stream holds more than asked for.
                    stream.avail_out = 1
                    status = withUnsafeMutablePointer(to: &probe) { p in
                        stream.next_out = p
                        return inflate(&stream, Z_NO_FLUSH)
                    }
                    consumed += inChunk - Int(stream.avail_in)
                    if stream.avail_out == 0 { return true }
                } else {
                    let outChunk = min(out.count - filled, Int(UInt32.max))
                    status = out.withUnsafeMutableBufferPointer { dst -> Int32 in
                        stream.next_out = dst.baseAddress! + filled
                        stream.avail_out = UInt32(outChunk)
                        return inflate(&stream, Z_NO_FLUSH)
                    }
                    consumed += inChunk - Int(stream.avail_in)
                    filled += outChunk - Int(stream.avail_out)
                }
                switch status {
                case Z_STREAM_END:
                    guard consumed < source.count else { return false }
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
        return Output(bytes: out, exceedsLimit: exceeded)
    }
}
