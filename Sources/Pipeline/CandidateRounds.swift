import Filter
import Shards
import Support
import Synth

/// One class's share of one shard: rounds of candidates from the source until `needed` pass or the
/// budget is spent. Each round's candidates go through the filter's classifiers in one forward
/// pass and each gets one verdict, which decides the near-copy check, the keep and the count; a
/// kept sample stores the very probabilities it was judged on, or with --label-model the label
/// models' probabilities of its stored pixels (computed for the kept candidates only).
struct CandidateRounds {
    /// A kept candidate: the 8-bit pixels that were judged and are stored, the filter's confidence
    /// in its class (nil with --no-filter), its soft label (the filter's probabilities, or the label
    /// models'; nil when there is neither), and how to regenerate it (round seed, slot, batch size).
    struct Kept {
        var pixels: [UInt8]
        var confidence: Float?
        var probs: [Float]?
        var seed: UInt64
        var slot: Int
        var batch: Int
    }

    let source: SampleSource
    let filter: ConfidenceFilter?
    /// --label-model's ensemble: the soft labels of kept samples (nil: the filter's probabilities).
    let labeller: EnsembleProbabilities?
    /// --reject-near-copies: the real images and the rule candidates are checked against.
    let nearCopies: (index: NearCopyIndex, rule: NearCopyRule)?
    let plan: BuildPlan
    /// The build's --seed; each round's seed is derived from it, the shard, the class and the round.
    let seed: UInt64

    func run(shard s: Int, classIndex c: Int, needed: Int) throws -> (kept: [Kept], stats: ClassStats) {
        let imageBytes = source.imageShape.reduce(1, *), k = source.classNames.count
        var kept: [Kept] = []
        var stats = ClassStats(filterAccountOf: c, name: source.classNames[c], countsNearCopies: nearCopies != nil)
        let budget = plan.budget(needed: needed)
        var round = 0, previous = 0
        while true {
            let size = BuildPlan.roundSize(remaining: needed - kept.count, generated: stats.generated,
                                           passed: stats.accepted + stats.surplus, budgetLeft: budget - stats.generated,
                                           preferred: max(1, source.preferredBatch), filtered: filter != nil, previous: previous)
            if size == 0 { break }
            let roundSeed = RNG.derive(seed, UInt64(s), UInt64(c), UInt64(round))
            let images = try source.generate(label: c, count: size, seed: roundSeed)
            guard images.shape == [size] + source.imageShape else {
                throw SynthError("source '\(source.sourceName)' returned \(images.shape) for \(size) images of \(source.imageShape)")
            }
            let pixels = try Quantize.pixels(images)
            func image(_ slot: Int) -> ArraySlice<UInt8> { pixels[(slot * imageBytes)..<((slot + 1) * imageBytes)] }
            let probs = try filter.map { f in try pixels.withUnsafeBufferPointer { try f.probabilities($0, count: size) } }
            func row(_ slot: Int) -> ArraySlice<Float> { probs![(slot * k)..<((slot + 1) * k)] }
            let verdicts = filter.map { f in (0..<size).map { f.judge(row($0), label: c) } }
            func passes(_ slot: Int) -> Bool {
                guard let verdicts else { return true }
                if case .accepted = verdicts[slot] { return true }
                return false
            }
            // Near-copies among the candidates the confidence filter lets through.
            var copies = [Bool](repeating: false, count: size)
            if let (index, rule) = nearCopies {
                let passing = (0..<size).filter(passes)
                var batch: [UInt8] = []
                batch.reserveCapacity(passing.count * imageBytes)
                for slot in passing { batch += image(slot) }
                let matches = try batch.withUnsafeBufferPointer { try index.match($0, count: passing.count) }
                for (j, slot) in passing.enumerated() where rule.isNearCopy(matches[j]) { copies[slot] = true }
            }
            var taken: [Int] = []
            for slot in 0..<size {
                let take = passes(slot) && !copies[slot] && kept.count + taken.count < needed
                if copies[slot] {
                    stats.recordNearCopy()
                } else if let verdicts {
                    stats.record(verdicts[slot], kept: take)
                } else {
                    stats.recordUnfiltered(kept: take)
                }
                if take { taken.append(slot) }
            }
            // The label models see the kept candidates only, one batch of their stored pixels.
            let labels = try labeller.map { l in
                var batch: [UInt8] = []
                batch.reserveCapacity(taken.count * imageBytes)
                for slot in taken { batch += image(slot) }
                return try batch.withUnsafeBufferPointer { try l($0, count: taken.count) }
            }
            for (j, slot) in taken.enumerated() {
                let soft = labels.map { Array($0[(j * k)..<((j + 1) * k)]) } ?? probs.map { _ in Array(row(slot)) }
                kept.append(Kept(pixels: Array(image(slot)),
                                 confidence: probs.map { $0[slot * k + c] }, probs: soft, seed: roundSeed, slot: slot, batch: size))
            }
            previous = size
            round += 1
        }
        return (kept, stats)
    }
}
