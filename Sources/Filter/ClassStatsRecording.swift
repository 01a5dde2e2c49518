import Shards

/// The filter's verdicts counted into the manifest's per-class account (`ClassStats`), so a build,
/// `synth eval --threshold` and the manifest share one spelling of what the filter did.
extension ClassStats {
    /// Bins of the accepted samples' confidence over [0, 1] in a filter's account.
    public static let histogramBins = 20

    /// An empty account of class `classIndex` with the filter's histogram bins.
    public init(filterAccountOf classIndex: Int, name: String, countsNearCopies: Bool = false) {
        self.init(classIndex: classIndex, name: name, bins: Self.histogramBins, countsNearCopies: countsNearCopies)
    }

    /// One candidate the filter judged; `kept` says whether an accepted one was kept (else surplus).
    public mutating func record(_ verdict: ConfidenceFilter.Verdict, kept: Bool) {
        generated += 1
        switch verdict {
        case .accepted(let p):
            if kept {
                accepted += 1
                let bins = confidenceHistogram.count
                confidenceHistogram[min(Int(p * Float(bins)), bins - 1)] += 1
            } else {
                surplus += 1
            }
        case .wrongClass: rejectedWrongClass += 1
        case .lowConfidence: rejectedLowConfidence += 1
        }
    }

    /// A candidate that passed the confidence filter (or had none) but copies a real image.
    public mutating func recordNearCopy() {
        generated += 1
        rejectedNearCopy = (rejectedNearCopy ?? 0) + 1
    }

    /// A candidate taken without a filter (--no-filter).
    public mutating func recordUnfiltered(kept: Bool) {
        generated += 1
        if kept { accepted += 1 } else { surplus += 1 }
    }
}
