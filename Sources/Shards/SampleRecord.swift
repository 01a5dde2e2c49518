import Support
import Foundation

/// The per-sample `.json` member: UTF-8, compact, keys sorted, numbers written the same way on
/// every machine. Floats use Swift's shortest round-trip spelling of the Float32 value (e.g.
/// 0.99999994, 5e-05), which every JSON reader parses back to the same float.
///
///     {"batch":64,"class":3,"class_name":"Dress","confidence":0.97,"probs":[...],"seed":"123","slot":5,"source":"gan"}
///
/// Every number fits a signed 64-bit integer or is a float; the 64-bit seed is a decimal string
/// (SeedJSON), since pyarrow, and so Hugging Face datasets, refuse integers >= 2^63.
/// `seed`, `slot` and `batch` say how to regenerate the sample: `generate(label: class, count: batch,
/// seed: seed)` of the source and take image `slot` (CaG generates a batch jointly, so the batch
/// size matters). Real data packed by `synth pack` has only class, class_name and source, no
/// confidence or probs: there is no teacher.
public struct SampleRecord: Equatable, Sendable {
    public var classIndex: Int
    public var className: String
    public var source: String
    public var confidence: Float?
    /// The filter's (ensemble mean) probability of every class: soft labels for distillation.
    public var probs: [Float]?
    public var seed: UInt64?
    public var slot: Int?
    public var batch: Int?

    public init(classIndex: Int, className: String, source: String, confidence: Float? = nil, probs: [Float]? = nil,
                seed: UInt64? = nil, slot: Int? = nil, batch: Int? = nil) {
        self.classIndex = classIndex; self.className = className; self.source = source
        self.confidence = confidence; self.probs = probs; self.seed = seed; self.slot = slot; self.batch = batch
    }

    /// The member's bytes (keys in sorted order by construction).
    public func json() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + (probs?.count ?? 0) * 12)
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ k: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(UInt8(ascii: "\"")); out.append(contentsOf: k.utf8); out.append(contentsOf: "\":".utf8)
        }
        if let batch { key("batch"); out.append(contentsOf: String(batch).utf8) }
        key("class"); out.append(contentsOf: String(classIndex).utf8)
        key("class_name"); appendString(className, to: &out)
        if let confidence { key("confidence"); out.append(contentsOf: SampleRecord.number(confidence).utf8) }
        if let probs {
            key("probs")
            out.append(UInt8(ascii: "["))
            for (i, p) in probs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: SampleRecord.number(p).utf8)
            }
            out.append(UInt8(ascii: "]"))
        }
        if let seed { key("seed"); out.append(contentsOf: SeedJSON.text(seed).utf8) }
        if let slot { key("slot"); out.append(contentsOf: String(slot).utf8) }
        key("source"); appendString(source, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Shortest round-trip decimal of a finite Float ("1.0" stays "1.0": valid JSON).
    static func number(_ v: Float) -> String {
        precondition(v.isFinite, "SampleRecord: non-finite number")
        return v.description
    }

    private func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 10: out.append(contentsOf: "\\n".utf8)
            case 13: out.append(contentsOf: "\\r".utf8)
            case 9: out.append(contentsOf: "\\t".utf8)
            case 0..<32:
                let digits = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)])
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses a sample's json (any key order; unknown keys ignored). Returns nil with a reason.
    public static func parse(_ bytes: [UInt8]) -> Result<SampleRecord, ParseFailure> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            return .failure(ParseFailure("json is not a JSON object"))
        }
        func int(_ key: String) -> Int? {
            guard let n = object[key] as? NSNumber, let v = Int(exactly: n.doubleValue) else { return nil }
            return v
        }
        guard let cls = int("class") else { return .failure(ParseFailure("json has no integer 'class'")) }
        guard let name = object["class_name"] as? String else { return .failure(ParseFailure("json has no string 'class_name'")) }
        guard let source = object["source"] as? String else { return .failure(ParseFailure("json has no string 'source'")) }
        var record = SampleRecord(classIndex: cls, className: name, source: source)
        if let c = object["confidence"] {
            guard let n = c as? NSNumber else { return .failure(ParseFailure("json 'confidence' is not a number")) }
            record.confidence = n.floatValue
        }
        if let p = object["probs"] {
            guard let list = p as? [NSNumber] else { return .failure(ParseFailure("json 'probs' is not a list of numbers")) }
            record.probs = list.map(\.floatValue)
        }
        if let s = object["seed"] {
            // Datasets written before the string form hold a plain integer; both read the same.
            guard let seed = SeedJSON.value(s) else { return .failure(ParseFailure("json 'seed' is not a decimal string of an unsigned 64-bit integer")) }
            record.seed = seed
        }
        record.slot = int("slot")
        record.batch = int("batch")
        return .success(record)
    }

    public struct ParseFailure: Error { public let reason: String; init(_ r: String) { reason = r } }
}
