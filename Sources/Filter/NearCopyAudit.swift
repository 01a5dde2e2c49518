import Datasets
import Foundation
import Support

/// Order statistics of a distance over all audited samples.
public struct DistanceSummary: Codable, Equatable, Sendable {
    public var min: Double
    public var p01: Double
    public var p05: Double
    public var p25: Double
    public var median: Double
    public var p75: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public var mean: Double

    /// Percentiles by linear interpolation between order statistics (numpy's default).
    public init(_ values: [Double]) {
        let s = values.sorted()
        func q(_ p: Double) -> Double {
            guard !s.isEmpty else { return .nan }
            let x = p * Double(s.count - 1), i = Int(x.rounded(.down)), f = x - Double(i)
            return i + 1 < s.count ? s[i] + f * (s[i + 1] - s[i]) : s[i]
        }
        min = s.first ?? .nan; max = s.last ?? .nan
        p01 = q(0.01); p05 = q(0.05); p25 = q(0.25); median = q(0.5); p75 = q(0.75); p95 = q(0.95); p99 = q(0.99)
        mean = s.isEmpty ? .nan : s.reduce(0, +) / Double(s.count)
    }
}

/// The manifest's "audit" section, written by `synth audit`: for every sample its nearest real
/// training image, and the share of near-copies under a stated rule; with a holdout, the distance
/// to the closest record against it (`dcr`). The membership-inference check of the build's models
/// (Measure's `MembershipInference`) sits beside these fields in the same section.
public struct NearCopyAuditRecord: Codable, Equatable, Sendable {
    public static let key = "audit"

    public struct ClassShare: Codable, Equatable, Sendable {
        public var classIndex: Int
        public var name: String
        public var samples: Int
        public var nearCopies: Int
        public var share: Double
        public var pixelRMSMedian: Double
        enum CodingKeys: String, CodingKey {
            case classIndex = "class", name, samples, nearCopies = "near_copies", share, pixelRMSMedian = "pixel_rms_median"
        }
    }

    /// One of the closest pairs (for the report to show side by side).
    public struct Pair: Codable, Equatable, Sendable {
        /// Position of the sample in the dataset (shard order).
        public var sample: Int
        public var classIndex: Int
        public var realIndex: Int
        public var realClass: Int
        public var pixelRMS: Double
        public var cosine: Double?
        enum CodingKeys: String, CodingKey {
            case sample, classIndex = "class", realIndex = "real_index", realClass = "real_class", pixelRMS = "pixel_rms", cosine
        }
    }

    public var real: String
    public var realSamples: Int
    /// The feature model (path as given) and its SHA-256; nil for a pixel-only audit.
    public var model: String?
    public var modelSHA256: String?
    public var rule: NearCopyRule
    public var samples: Int
    public var nearCopies: Int
    public var share: Double
    public var nearCopiesByPixels: Int
    public var nearCopiesByFeatures: Int
    public var perClass: [ClassShare]
    public var pixelRMS: DistanceSummary
    public var cosine: DistanceSummary?
    /// Equal-width bins of pixel_rms over [0, histogramMax) (the last bin takes everything above).
    public var pixelHistogram: [Int]
    public var histogramMax: Double
    /// The samples closest to a real image by pixels, nearest first.
    public var closest: [Pair]
    /// Distance to the closest record against a holdout (`HoldoutDCR`); nil when no holdout was given.
    public var dcr: HoldoutDCRRecord?

    enum CodingKeys: String, CodingKey {
        case real, realSamples = "real_samples", model, modelSHA256 = "model_sha256", rule, samples
        case nearCopies = "near_copies", share, nearCopiesByPixels = "near_copies_by_pixels"
        case nearCopiesByFeatures = "near_copies_by_features", perClass = "per_class", pixelRMS = "pixel_rms", cosine
        case pixelHistogram = "pixel_rms_histogram", histogramMax = "pixel_rms_histogram_max", closest, dcr
    }
}

public enum NearCopyAudit {
    /// Audits every sample of `data` against the index's real images. `chunk` bounds memory.
    public static func run(_ data: Dataset, index: NearCopyIndex, rule: NearCopyRule, model: String? = nil, modelSHA256: String? = nil,
                           closestCount: Int = 12, chunk: Int = 2000,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> (record: NearCopyAuditRecord, matches: [NearCopyMatch]) {
        try rule.validate()
        guard data.count > 0 else { throw SynthError("\(data.name): no samples to audit") }
        let matches = try index.match(data, chunk: chunk, progress: progress)
        return (record(data, matches: matches, index: index, rule: rule, model: model, modelSHA256: modelSHA256,
                       closestCount: closestCount), matches)
    }

    static func record(_ data: Dataset, matches: [NearCopyMatch], index: NearCopyIndex, rule: NearCopyRule, model: String?,
                       modelSHA256: String?, closestCount: Int) -> NearCopyAuditRecord {
        let hits = matches.map(rule.isNearCopy)
        var perClass: [NearCopyAuditRecord.ClassShare] = []
        for c in 0..<data.classCount {
            let members = (0..<data.count).filter { data.labels[$0] == c }
            guard !members.isEmpty else { continue }
            let n = members.filter { hits[$0] }.count
            perClass.append(.init(classIndex: c, name: data.classNames[c], samples: members.count, nearCopies: n,
                                  share: Double(n) / Double(members.count),
                                  pixelRMSMedian: DistanceSummary(members.map { matches[$0].pixelRMS }).median))
        }
        let bins = 25, top = 0.25
        var histogram = [Int](repeating: 0, count: bins)
        for m in matches { histogram[min(Int(m.pixelRMS / top * Double(bins)), bins - 1)] += 1 }
        let order = (0..<matches.count).sorted { (matches[$0].pixelRMS, $0) < (matches[$1].pixelRMS, $1) }
        let closest = order.prefix(closestCount).map { i in
            NearCopyAuditRecord.Pair(sample: i, classIndex: data.labels[i], realIndex: matches[i].realIndex,
                                     realClass: index.real.labels[matches[i].realIndex], pixelRMS: matches[i].pixelRMS,
                                     cosine: matches[i].cosine)
        }
        let cosines = matches.compactMap(\.cosine)
        let near = hits.filter { $0 }.count
        return NearCopyAuditRecord(
            real: index.real.name, realSamples: index.real.count, model: model, modelSHA256: modelSHA256, rule: rule,
            samples: data.count, nearCopies: near, share: data.count > 0 ? Double(near) / Double(data.count) : 0,
            nearCopiesByPixels: matches.filter(rule.pixelHit).count, nearCopiesByFeatures: matches.filter(rule.cosineHit).count,
            perClass: perClass, pixelRMS: DistanceSummary(matches.map(\.pixelRMS)),
            cosine: cosines.count == matches.count && !cosines.isEmpty ? DistanceSummary(cosines) : nil,
            pixelHistogram: histogram, histogramMax: top, closest: Array(closest))
    }
}
