import Datasets
import Foundation
import Shards

/// The manifest's "evaluations" section: every CAS measured on the dataset (one per distinct
/// test set and settings, the latest kept) and its place on the real error-versus-size curve,
/// once trained on its labels ("compression") and once on its stored probabilities
/// ("compression_soft"), the two columns of the compression table.
public struct DatasetEvaluations: Codable, Equatable, Sendable {
    public static let key = "evaluations"

    public var cas: [CASResult]
    public var compression: CompressionPlacement?
    public var softCompression: CompressionPlacement?

    enum CodingKeys: String, CodingKey { case cas, compression, softCompression = "compression_soft" }

    public init(cas: [CASResult] = [], compression: CompressionPlacement? = nil, softCompression: CompressionPlacement? = nil) {
        self.cas = cas; self.compression = compression; self.softCompression = softCompression
    }

    /// The placements held, hard labels first.
    public var placements: [CompressionPlacement] { [compression, softCompression].compactMap { $0 } }

    /// Keeps a placement in the slot of its CAS's labels (soft or hard), replacing the one there.
    public mutating func place(_ placement: CompressionPlacement) {
        if placement.cas.settings.soft { softCompression = placement } else { compression = placement }
    }

    public static func of(_ manifest: Manifest) throws -> DatasetEvaluations {
        try manifest.section(key, as: DatasetEvaluations.self) ?? DatasetEvaluations()
    }

    /// Adds a CAS result, replacing an earlier one of the same training data, test data and settings.
    public mutating func record(_ result: CASResult) {
        cas.removeAll { $0.train == result.train && $0.test == result.test && $0.settings == result.settings }
        cas.append(result)
    }

    /// A stored CAS of exactly this training data, test data and settings.
    public func stored(train: String, test: String, settings: CASSettings) -> CASResult? {
        cas.last { $0.train == train && $0.test == test && $0.settings == settings }
    }

    /// A stored CAS of the whole dataset (a shards spec with no @N, however its directory was
    /// spelled or wherever it has moved since) on this test data with these settings.
    public func storedWhole(test: String, settings: CASSettings) -> CASResult? {
        cas.last { r in
            guard r.test == test, r.settings == settings, let spec = try? DataSpec(parsing: r.train),
                  case .shards = spec else { return false }
            return true
        }
    }

    public func save(into manifest: inout Manifest) {
        manifest.setSection(Self.key, self)
    }
}
