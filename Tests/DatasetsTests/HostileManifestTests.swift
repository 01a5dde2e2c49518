@testable import Datasets
import Foundation
import Shards
import Testing

/// Counts in a manifest from elsewhere that would overflow Int arithmetic, or that are negative, are
/// refused by the structure check with one line naming manifest.json — never a trap. Each variant is
/// the committed seed manifest (a 6-sample gan build) with one field made hostile; the trapping ones
/// are also in Fuzz/corpus/manifest, replayed through the fuzz target by CorpusReplayTests.
@Suite struct HostileManifestTests {
    static let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus/manifest/gan-manifest.json").standardized

    /// The seed manifest with `edit` applied to its JSON object.
    func variant(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: Self.seed)) as? [String: Any])
        edit(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    func check(_ bytes: [UInt8]) throws {
        let manifest = try Manifest.decode(bytes, path: "manifest.json")
        try ShardVerifier.checkStructure(manifest, path: "manifest.json")
    }

    static func set(_ object: inout [String: Any], _ section: String, _ key: String, _ value: Any) {
        var inner = object[section] as! [String: Any]
        inner[key] = value
        object[section] = inner
    }

    static func setShard(_ object: inout [String: Any], _ key: String, _ value: Any) {
        var list = object["shardlist"] as! [[String: Any]]
        list[0][key] = value
        object["shardlist"] = list
    }

    static func setFilterClass(_ object: inout [String: Any], _ key: String, _ value: Any) {
        var filter = object["filter"] as! [String: Any]
        var classes = filter["classes"] as! [[String: Any]]
        classes[0][key] = value
        filter["classes"] = classes
        object["filter"] = filter
    }

    @Test func theSeedPasses() throws {
        try check(Array(try Data(contentsOf: Self.seed)))
    }

    @Test func countsNearIntMaxAreRefused() throws {
        let hostile: [(String, [UInt8])] = [
            ("planned_samples Int.max", try variant { Self.set(&$0, "build", "planned_samples", Int.max) }),
            ("shard_size Int.max", try variant { Self.set(&$0, "build", "shard_size", Int.max) }),
            ("class_counts summing past Int.max", try variant { Self.setShard(&$0, "class_counts", [Int.max, 4, 0, 0, 0, 0, 0, 0, 0, 0]) }),
            ("filter counts summing past Int.max", try variant { Self.setFilterClass(&$0, "surplus", Int.max) }),
            ("image_shape of 2^40 x 2^40", try variant { $0["image_shape"] = [3, 1 << 40, 1 << 40] }),
        ]
        for (what, bytes) in hostile {
            let message = expectSynthError(mentioning: "manifest.json") { try check(bytes) }
            #expect(message != nil, "\(what)")
        }
    }

    @Test func negativeCountsAreRefused() throws {
        // [5, -2] adds up to the shard's 3 samples: the sum alone would pass.
        let negativeClass = try variant { Self.setShard(&$0, "class_counts", [5, -2, 0, 0, 0, 0, 0, 0, 0, 0]) }
        expectSynthError(mentioning: "manifest.json", "inconsistent") { try check(negativeClass) }
        let negativeFilter = try variant {
            Self.setFilterClass(&$0, "surplus", 60)
            Self.setFilterClass(&$0, "rejected_wrong_class", -3)
        }
        expectSynthError(mentioning: "manifest.json", "do not add up") { try check(negativeFilter) }
    }
}
