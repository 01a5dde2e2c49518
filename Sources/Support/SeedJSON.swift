import Foundation

/// How a 64-bit seed is spelled in JSON that other tools read (a sample's json, manifest.json):
/// as a decimal string, "18446744073709551615". Readers built on signed 64-bit integers (pyarrow,
/// and so Hugging Face datasets) refuse an integer >= 2^63, and half of all derived seeds are that large.
/// Reading also takes a plain non-negative integer: what synth wrote before, so older datasets
/// stay readable.
public enum SeedJSON {
    /// The JSON text of a seed, quotes included.
    public static func text(_ seed: UInt64) -> String { "\"\(seed)\"" }

    /// A seed from its decimal string: ASCII digits only, no sign, no leading zero, at most 2^64 - 1.
    public static func parse(_ string: String) -> UInt64? {
        guard let v = UInt64(string), String(v) == string else { return nil }
        return v
    }

    /// A seed from a value JSONSerialization produced: the string form, or (older files) an
    /// integral non-negative number. nil for anything else.
    public static func value(_ any: Any) -> UInt64? {
        if let s = any as? String { return parse(s) }
        // The number's own digits, not a Double: 2^64 - 1 has no exact Double. A JSON bool is an
        // NSNumber of type char ("c") whose digits are 0 or 1: not a seed.
        guard let n = any as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        return parse(n.stringValue)
    }
}

/// A seed property of a Codable type, written as SeedJSON spells it. A nil seed is left out of
/// the JSON, as synthesised Codable does for any optional, rather than written as null.
@propertyWrapper
public struct SeedCoded: Codable, Equatable, Hashable, Sendable {
    public var wrappedValue: UInt64?
    public init(wrappedValue: UInt64?) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { wrappedValue = nil; return }
        if let s = try? c.decode(String.self) {
            guard let v = SeedJSON.parse(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a seed is a decimal string of an unsigned 64-bit integer")
            }
            wrappedValue = v
        } else {
            wrappedValue = try c.decode(UInt64.self)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let wrappedValue { try c.encode(String(wrappedValue)) } else { try c.encodeNil() }
    }
}

// Synthesised Codable calls `encode(_:forKey:)` / `decode(_:forKey:)` with the wrapper's type;
// these overloads make a nil seed an absent key and an absent key a nil seed.
extension KeyedEncodingContainer {
    public mutating func encode(_ value: SeedCoded, forKey key: Key) throws {
        try encodeSeed(value.wrappedValue, forKey: key)
    }

    /// Writes a seed as its decimal string; nothing when nil.
    public mutating func encodeSeed(_ seed: UInt64?, forKey key: Key) throws {
        if let seed { try encode(String(seed), forKey: key) }
    }
}

extension KeyedDecodingContainer {
    public func decode(_ type: SeedCoded.Type, forKey key: Key) throws -> SeedCoded {
        SeedCoded(wrappedValue: try decodeSeed(forKey: key))
    }

    /// A seed as SeedJSON spells it, or a plain integer (older files); nil when the key is absent.
    public func decodeSeed(forKey key: Key) throws -> UInt64? {
        try decodeIfPresent(SeedCoded.self, forKey: key)?.wrappedValue
    }
}
