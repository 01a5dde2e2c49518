import Foundation
@testable import Shards
import Testing

/// 64-bit seeds in the JSON other tools read are decimal strings (DESIGN, "Numbers a reader must
/// be able to load"); the plain integers earlier versions wrote still read.
@Suite struct SeedJSONTests {
    static let big: UInt64 = 18_446_744_073_709_551_615

    @Test func sampleJSONWritesTheSeedAsAStringAndReadsBothForms() throws {
        let r = SampleRecord(classIndex: 1, className: "b", source: "gan", seed: Self.big, slot: 0, batch: 2)
        let text = String(decoding: r.json(), as: UTF8.self)
        #expect(text == #"{"batch":2,"class":1,"class_name":"b","seed":"18446744073709551615","slot":0,"source":"gan"}"#)
        #expect(try SampleRecord.parse(r.json()).get() == r)
        // Datasets written before: the seed as a JSON integer, at and below 2^63.
        for seed: UInt64 in [0, 123, 1 << 63, Self.big] {
            let old = #"{"class":1,"class_name":"b","seed":\#(seed),"source":"gan"}"#
            #expect(try SampleRecord.parse(Array(old.utf8)).get().seed == seed)
        }
        // Anything else named seed is refused, with the reason.
        for bad in [#""-1""#, #""01""#, #""""#, #""1e3""#, #""18446744073709551616""#, "-1", "1.5", "true", "[1]", "18446744073709551616"] {
            let json = #"{"class":1,"class_name":"b","seed":\#(bad),"source":"gan"}"#
            guard case .failure(let f) = SampleRecord.parse(Array(json.utf8)) else {
                Issue.record("seed \(bad) was accepted"); continue
            }
            #expect(f.reason.contains("'seed'"), "\(bad): \(f.reason)")
        }
    }

    static func record(seed: UInt64?) -> BuildRecord {
        BuildRecord(command: seed == nil ? "pack" : "build", tool: "synth 0", source: "gan", seed: seed, classes: [0],
                    plannedSamples: 1, shardSize: 1)
    }

    @Test func buildRecordWritesTheSeedAsAStringAndOmitsAMissingOne() throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let text = String(decoding: try e.encode(Self.record(seed: Self.big)), as: UTF8.self)
        #expect(text.contains(#""seed":"18446744073709551615""#), "\(text)")
        #expect(try JSONDecoder().decode(BuildRecord.self, from: Data(text.utf8)) == Self.record(seed: Self.big))
        // Packed data has no seed: no key, not null.
        let packed = String(decoding: try e.encode(Self.record(seed: nil)), as: UTF8.self)
        #expect(!packed.contains("seed"), "\(packed)")
        #expect(try JSONDecoder().decode(BuildRecord.self, from: Data(packed.utf8)).seed == nil)
        // A manifest written before: the integer form reads as the same seed.
        let old = text.replacingOccurrences(of: #""seed":"18446744073709551615""#, with: #""seed":18446744073709551615"#)
        #expect(old != text)
        #expect(try JSONDecoder().decode(BuildRecord.self, from: Data(old.utf8)).seed == Self.big)
        let bad = text.replacingOccurrences(of: #""seed":"18446744073709551615""#, with: #""seed":"x""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(BuildRecord.self, from: Data(bad.utf8)) }
    }

    @Test func manifestWritesTheBuildSeedAsAString() throws {
        let m = Manifest(name: "ds", classes: ["a"], imageShape: [1, 1, 1], shardlist: [], build: Self.record(seed: Self.big), filter: nil)
        let text = String(decoding: m.encoded(), as: UTF8.self)
        #expect(text.contains(#""seed" : "18446744073709551615""#), "\(text)")
        #expect(try Manifest.decode(m.encoded(), path: "m").build.seed == Self.big)
    }
}
