import Support
import Foundation

#if _endian(big)
#error("safetensors data is little-endian; this file copies it as host-order memory")
#endif

/// One named tensor of a safetensors file. Values are held as Float32 whatever the stored dtype.
public struct SafetensorsEntry {
    /// Element types synth reads; it writes them too, converting from Float.
    public enum DType: String, Sendable, CaseIterable {
        case f16 = "F16", bf16 = "BF16", i32 = "I32", f32 = "F32", f64 = "F64", i64 = "I64"

        public var byteSize: Int {
            switch self {
            case .f16, .bf16: return 2
            case .i32, .f32: return 4
            case .f64, .i64: return 8
            }
        }

        /// The position of the dtype in the safetensors crate's `Dtype` enum (declared in increasing
        /// alignment order); writers lay tensors out by descending rank so every tensor is aligned.
        var alignmentRank: Int {
            switch self {
            case .f16: return 0
            case .bf16: return 1
            case .i32: return 2
            case .f32: return 3
            case .f64: return 4
            case .i64: return 5
            }
        }
    }

    public var name: String
    public var shape: [Int]
    /// The dtype stored in (or to be written to) the file.
    public var dtype: DType
    /// Row-major values, `shape.reduce(1, *)` of them. May share storage with a live tensor.
    public var values: Buffer

    public init(name: String, shape: [Int], dtype: DType = .f32, values: Buffer) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }

    public init(name: String, shape: [Int], dtype: DType = .f32, values: [Float]) {
        let buffer = Buffer(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { buffer.pointer.update(from: base, count: values.count) }
        }
        self.init(name: name, shape: shape, dtype: dtype, values: buffer)
    }

    public var count: Int { values.count }
    public var array: [Float] { Array(values.buffer) }
}

/// The contents of a safetensors file.
public struct SafetensorsFile {
    public var entries: [String: SafetensorsEntry]
    /// Tensor names in file order (by data offset), the order the safetensors crate uses too.
    public var names: [String]
    public var metadata: [String: String]

    /// Entries in file order.
    public var ordered: [SafetensorsEntry] { names.map { entries[$0]! } }
}

/// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian header length N, N bytes of JSON header, then the raw little-endian data.
///
/// Written files follow the Rust crate behind the Python package byte for byte: tensors laid out
/// by descending dtype alignment, then by name (byte-wise); compact JSON with `__metadata__` first
/// and the tensors in data order, each as {"dtype","shape","data_offsets"}; the header padded with
/// spaces to a multiple of 8. The one freedom the crate leaves, the order of metadata keys (a hash
/// map there), is fixed here to byte-wise sorted, so equal inputs give equal bytes.
///
/// Reading applies the crate's validation: the header fits in the file and is a UTF-8 JSON object,
/// tensors sorted by offset start at 0 and follow each other without gaps or overlaps, each spans
/// exactly shape x dtype-size bytes, and the last ends exactly at the end of the file.
public enum Safetensors {
    /// The crate refuses larger headers; so do we, before allocating for one.
    static let maxHeaderSize = 100_000_000

    // MARK: Writing

    /// Writes `entries` atomically: a temporary file beside `path`, fsync, then rename over `path`.
    public static func write(_ entries: [SafetensorsEntry], metadata: [String: String] = [:], to path: String) throws {
        let bytes = try serialize(entries, metadata: metadata, path: path)
        try Files.writeAtomically(bytes, to: path)
    }

    /// The exact bytes `write` puts in the file; `path` only names the file in errors.
    public static func serialize(_ entries: [SafetensorsEntry], metadata: [String: String] = [:], path: String = "<memory>") throws -> [UInt8] {
        var seen = Set<String>()
        for e in entries {
            if e.name == "__metadata__" { throw SynthError.file(path, "a tensor cannot be named __metadata__") }
            guard seen.insert(e.name).inserted else { throw SynthError.file(path, "two tensors named '\(e.name)'") }
            guard e.shape.allSatisfy({ $0 >= 0 }), e.shape.reduce(1, *) == e.count else {
                throw SynthError.file(path, "tensor '\(e.name)': shape \(e.shape) does not hold \(e.count) values")
            }
        }
        let sorted = entries.sorted { a, b in
            if a.dtype.alignmentRank != b.dtype.alignmentRank { return a.dtype.alignmentRank > b.dtype.alignmentRank }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }

        var header: [UInt8] = []
        header.append(UInt8(ascii: "{"))
        var first = true
        if !metadata.isEmpty {
            appendJSONString("__metadata__", to: &header)
            header.append(contentsOf: Array(":{".utf8))
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key]!, to: &header)
            }
            header.append(UInt8(ascii: "}"))
            first = false
        }
        var offset = 0
        for e in sorted {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
            let end = offset + e.count * e.dtype.byteSize
            appendJSONString(e.name, to: &header)
            let shape = e.shape.map(String.init).joined(separator: ",")
            header.append(contentsOf: Array(":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}".utf8))
            offset = end
        }
        header.append(UInt8(ascii: "}"))
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for e in sorted { try appendData(e, to: &out, path: path) }
        return out
    }

    private static func appendData(_ e: SafetensorsEntry, to out: inout [UInt8], path: String) throws {
        let v = e.values.pointer, n = e.count
        func integer<T: FixedWidthInteger>(_: T.Type) throws {
            for i in 0..<n {
                guard let x = T(exactly: v[i]) else {
                    throw SynthError.file(path, "tensor '\(e.name)': value \(v[i]) is not a \(e.dtype.rawValue) integer")
                }
                withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        switch e.dtype {
        case .f32:
            out.append(contentsOf: UnsafeRawBufferPointer(start: v, count: n * 4))
        case .f64:
            for i in 0..<n { withUnsafeBytes(of: Double(v[i]).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .f16:
            for i in 0..<n { withUnsafeBytes(of: Float16(v[i]).bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .bf16:
            for i in 0..<n { withUnsafeBytes(of: bfloat16Bits(v[i]).littleEndian) { out.append(contentsOf: $0) } }
        case .i32:
            try integer(Int32.self)
        case .i64:
            try integer(Int64.self)
        }
    }

    /// Round to nearest even, as PyTorch converts float32 to bfloat16.
    static func bfloat16Bits(_ x: Float) -> UInt16 {
        if x.isNaN { return 0x7FC0 }
        let bits = x.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    /// JSON string escaping as serde_json does it (the crate's serializer): `"` and `\`, the
    /// short escapes for control characters that have one, \u00XX for the rest, UTF-8 otherwise.
    static func appendJSONString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Reading

    public static func read(_ path: String) throws -> SafetensorsFile {
        try parse(try Files.read(path), path: path)
    }

    /// Parses the bytes of a whole safetensors file; `path` only names the file in errors.
    public static func parse(_ bytes: [UInt8], path: String = "<memory>") throws -> SafetensorsFile {
        func fail(_ problem: String) -> SynthError { SynthError.file(path, "not a valid safetensors file: " + problem) }

        guard bytes.count >= 8 else { throw fail("\(bytes.count) bytes, shorter than the 8-byte header length") }
        let n64 = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n64 <= UInt64(maxHeaderSize) else { throw fail("header length \(n64) exceeds the \(maxHeaderSize)-byte limit") }
        let n = Int(n64)
        guard 8 + n <= bytes.count else {
            throw fail("header length \(n) runs past the end of the file (\(bytes.count) bytes)")
        }
        let headerBytes = bytes[8..<(8 + n)]
        guard String(validating: headerBytes, as: UTF8.self) != nil else { throw fail("header is not UTF-8") }
        guard headerBytes.first == UInt8(ascii: "{") else { throw fail("header does not start with '{'") }

        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch let error as HeaderError {
            throw fail(error.problem)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw fail("header field \(describe(context.codingPath)) has the wrong type")
        } catch let DecodingError.keyNotFound(key, context) {
            throw fail("header entry \(describe(context.codingPath)) lacks \"\(key.stringValue)\"")
        } catch {
            throw fail("header is not valid JSON")
        }

        let dataCount = bytes.count - 8 - n
        let infos = header.tensors.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var position = 0
        for t in infos {
            guard t.begin <= t.end else { throw fail("tensor '\(t.name)' has data_offsets [\(t.begin), \(t.end)] that end before they begin") }
            guard t.end <= dataCount else {
                throw fail("tensor '\(t.name)' data_offsets [\(t.begin), \(t.end)] run past the \(dataCount) data bytes (truncated?)")
            }
            if t.begin < position { throw fail("tensor '\(t.name)' data_offsets [\(t.begin), \(t.end)] overlap the previous tensor, which ends at \(position)") }
            if t.begin > position { throw fail("tensor '\(t.name)' data_offsets [\(t.begin), \(t.end)] leave a gap after byte \(position)") }
            var elements = 1
            for d in t.shape {
                guard d >= 0 else { throw fail("tensor '\(t.name)' has a negative dimension in shape \(t.shape)") }
                let (m, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("tensor '\(t.name)' shape \(t.shape) is too large") }
                elements = m
            }
            guard let dtype = SafetensorsEntry.DType(rawValue: t.dtype) else {
                throw fail("tensor '\(t.name)' has dtype \(t.dtype), which synth does not read (it reads F32, F16, BF16, F64, I32, I64)")
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, expected == t.end - t.begin else {
                throw fail("tensor '\(t.name)' shape \(t.shape) of \(t.dtype) needs \(elements) x \(dtype.byteSize) bytes but data_offsets [\(t.begin), \(t.end)] hold \(t.end - t.begin)")
            }
            position = t.end
        }
        guard position == dataCount else {
            throw fail("tensor data ends at byte \(position) but the file holds \(dataCount) data bytes")
        }

        var entries: [String: SafetensorsEntry] = [:]
        entries.reserveCapacity(infos.count)
        bytes.withUnsafeBytes { raw in
            for t in infos {
                let dtype = SafetensorsEntry.DType(rawValue: t.dtype)!
                let src = UnsafeRawBufferPointer(rebasing: raw[(8 + n + t.begin)..<(8 + n + t.end)])
                let count = (t.end - t.begin) / dtype.byteSize
                entries[t.name] = SafetensorsEntry(name: t.name, shape: t.shape, dtype: dtype, values: decode(src, dtype, count))
            }
        }
        return SafetensorsFile(entries: entries, names: infos.map(\.name), metadata: header.metadata)
    }

    private static func decode(_ src: UnsafeRawBufferPointer, _ dtype: SafetensorsEntry.DType, _ count: Int) -> Buffer {
        let out = Buffer(count: count)
        let p = out.pointer
        switch dtype {
        case .f32:
            if count > 0 { UnsafeMutableRawPointer(p).copyMemory(from: src.baseAddress!, byteCount: count * 4) }
        case .f64:
            for i in 0..<count { p[i] = Float(Double(bitPattern: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
        case .f16:
            for i in 0..<count { p[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16:
            for i in 0..<count { p[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        case .i32:
            for i in 0..<count { p[i] = Float(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .i64:
            for i in 0..<count { p[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        }
        return out
    }

    private static func describe(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? "'\($0.stringValue)'" }.joined(separator: ".")
    }

    /// The header as the crate sees it: `__metadata__` (string to string) and tensor entries.
    private struct Header: Decodable {
        struct Tensor { let name: String, dtype: String, shape: [Int], begin: Int, end: Int }
        struct Info: Decodable { let dtype: String; let shape: [Int]; let data_offsets: [Int] }
        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        var tensors: [Tensor] = []
        var metadata: [String: String] = [:]

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decode([String: String].self, forKey: key)
                    continue
                }
                let info = try c.decode(Info.self, forKey: key)
                guard info.data_offsets.count == 2 else {
                    throw HeaderError(problem: "tensor '\(key.stringValue)' data_offsets must be [begin, end]")
                }
                guard info.data_offsets[0] >= 0, info.data_offsets[1] >= 0 else {
                    throw HeaderError(problem: "tensor '\(key.stringValue)' has negative data_offsets")
                }
                tensors.append(Tensor(name: key.stringValue, dtype: info.dtype, shape: info.shape,
                                      begin: info.data_offsets[0], end: info.data_offsets[1]))
            }
        }
    }

    private struct HeaderError: Error { let problem: String }
}
