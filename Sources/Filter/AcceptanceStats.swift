/// What the filter did with one class's candidates (in one shard, or summed over a build).
/// generated = accepted + surplus + wrongClass + lowConfidence + nearCopy; surplus passed the filter after
/// enough samples had been kept (the rest of a batch).
public struct AcceptanceStats: Equatable, Sendable {
    public static let histogramBins = 20

    public var generated = 0
    public var accepted = 0
    public var surplus = 0
    public var wrongClass = 0
    public var lowConfidence = 0
    /// Passed the confidence filter but was a near-copy of a real image (--reject-near-copies).
    public var nearCopy = 0
    /// Accepted samples' confidence in `histogramBins` equal bins over [0, 1] (1.0 in the last).
    public var histogram = [Int](repeating: 0, count: AcceptanceStats.histogramBins)

    public init() {}

    public mutating func record(_ verdict: ConfidenceFilter.Verdict, kept: Bool) {
        generated += 1
        switch verdict {
        case .accepted(let p):
            if kept {
                accepted += 1
                histogram[min(Int(p * Float(Self.histogramBins)), Self.histogramBins - 1)] += 1
            } else {
                surplus += 1
            }
        case .wrongClass: wrongClass += 1
        case .lowConfidence: lowConfidence += 1
        }
    }

    /// A candidate that passed the confidence filter (or had none) but copies a real image.
    public mutating func recordNearCopy() {
        generated += 1
        nearCopy += 1
    }

    /// A candidate taken without a filter (--no-filter).
    public mutating func recordUnfiltered(kept: Bool) {
        generated += 1
        if kept { accepted += 1 } else { surplus += 1 }
    }

    /// Share of candidates that passed the filter.
    public var passRate: Double { generated > 0 ? Double(accepted + surplus) / Double(generated) : 0 }

    public static func + (a: AcceptanceStats, b: AcceptanceStats) -> AcceptanceStats {
        var r = a
        r.generated += b.generated; r.accepted += b.accepted; r.surplus += b.surplus
        r.wrongClass += b.wrongClass; r.lowConfidence += b.lowConfidence; r.nearCopy += b.nearCopy
        for i in r.histogram.indices { r.histogram[i] += b.histogram[i] }
        return r
    }
}
