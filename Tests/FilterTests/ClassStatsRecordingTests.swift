import Filter
import Shards
import Testing

/// The filter's verdicts counted into the manifest's per-class account.
@Suite struct ClassStatsRecordingTests {
    @Test func everyVerdictLandsInExactlyOneCountAndKeptConfidencesInTheirBin() {
        var stats = ClassStats(filterAccountOf: 2, name: "two", countsNearCopies: true)
        #expect(stats.confidenceHistogram == [Int](repeating: 0, count: ClassStats.histogramBins))
        #expect(stats.rejectedNearCopy == 0)
        stats.record(.accepted(confidence: 0.97), kept: true)
        stats.record(.accepted(confidence: 1), kept: true)
        stats.record(.accepted(confidence: 0.5), kept: false)
        stats.record(.wrongClass(predicted: 0), kept: false)
        stats.record(.lowConfidence(0.4), kept: false)
        stats.recordNearCopy()
        stats.recordUnfiltered(kept: false)
        #expect(stats.generated == 7 && stats.accepted == 2 && stats.surplus == 2)
        #expect(stats.rejectedWrongClass == 1 && stats.rejectedLowConfidence == 1 && stats.rejectedNearCopy == 1)
        #expect(stats.countsAddUp)
        // 0.97 and 1.0 both fall in the last of 20 bins over [0, 1]; surplus is not binned.
        #expect(stats.confidenceHistogram[ClassStats.histogramBins - 1] == 2 && stats.confidenceHistogram.reduce(0, +) == 2)
    }

    @Test func anAccountWithoutNearCopyRejectionLeavesTheCountOut() {
        let stats = ClassStats(filterAccountOf: 0, name: "zero")
        #expect(stats.rejectedNearCopy == nil)
    }
}
