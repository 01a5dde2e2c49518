import Datasets
import Shards
import Support

/// What a confidence filter makes of an existing labelled set: per class, the share of samples it
/// would keep. Judged on the stored 8-bit pixels through `ConfidenceFilter`, the build's own path,
/// so a candidate folder screened here meets the same verdicts in a build.
public struct FilterVerdicts: Sendable {
    /// stats[c]: the verdicts on the samples labelled c.
    public let stats: [ClassStats]

    public init(_ filter: ConfidenceFilter, on data: Dataset) throws {
        guard [data.channels, data.height, data.width] == filter.imageShape else {
            throw SynthError("\(data.name): images are \(data.channels)x\(data.height)x\(data.width), the filter expects \(filter.imageShape.map(String.init).joined(separator: "x"))")
        }
        if let bad = data.labels.first(where: { $0 < 0 || $0 >= filter.classCount }) {
            throw SynthError("\(data.name): label \(bad) outside the filter's \(filter.classCount) classes")
        }
        let probs = try data.pixels.withUnsafeBufferPointer { try filter.probabilities($0, count: data.count) }
        var stats = (0..<filter.classCount).map {
            ClassStats(filterAccountOf: $0, name: $0 < data.classNames.count ? data.classNames[$0] : String($0))
        }
        let k = filter.classCount
        for (i, y) in data.labels.enumerated() {
            stats[y].record(filter.judge(probs[(i * k)..<((i + 1) * k)], label: y), kept: true)
        }
        self.stats = stats
    }

    /// Share of all samples kept.
    public var share: Double {
        let generated = stats.reduce(0) { $0 + $1.generated }, accepted = stats.reduce(0) { $0 + $1.accepted }
        return generated > 0 ? Double(accepted) / Double(generated) : 0
    }

    /// Share of each class kept (NaN for a class with no samples).
    public var perClassShare: [Double] {
        stats.map { $0.generated > 0 ? Double($0.accepted) / Double($0.generated) : .nan }
    }
}
