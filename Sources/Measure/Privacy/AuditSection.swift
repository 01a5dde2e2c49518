import Filter
import Foundation
import Shards

/// The manifest's "audit" section as `synth audit` writes it: the near-copy and holdout-distance
/// fields of Filter's `NearCopyAuditRecord`, and beside them (key "membership") the
/// membership-inference check of the build's models.
public struct AuditSection: Codable, Equatable, Sendable {
    public static let key = NearCopyAuditRecord.key
    public var nearCopies: NearCopyAuditRecord
    public var membership: MembershipRecord?

    enum CodingKeys: String, CodingKey { case membership }

    public init(nearCopies: NearCopyAuditRecord, membership: MembershipRecord?) {
        self.nearCopies = nearCopies; self.membership = membership
    }

    public init(from decoder: Decoder) throws {
        nearCopies = try NearCopyAuditRecord(from: decoder)
        membership = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(MembershipRecord.self, forKey: .membership)
    }

    /// One JSON object: the near-copy record's keys and "membership".
    public func encode(to encoder: Encoder) throws {
        try nearCopies.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(membership, forKey: .membership)
    }

    public static func of(_ manifest: Manifest) throws -> AuditSection? { try manifest.section(key, as: AuditSection.self) }
}
