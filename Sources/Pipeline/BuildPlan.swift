/// Which sample goes where, fixed before any work starts and independent of how the work is
/// split: planned sample i (0 <= i < classes * perClass) is of class classes[i mod C] (C classes
/// selected), the rank i / C of its class, and lives in shard i / shardSize — so every shard is
/// class-balanced. The unit of work is one class's samples of one shard; it draws candidates in
/// rounds whose seeds derive from (seed, shard, class, round) alone, so any worker, and any
/// resumed run, produces it byte for byte the same.
public struct BuildPlan: Sendable, Equatable {
    public let classes: [Int]
    public let perClass: Int
    public let shardSize: Int
    /// Candidates per class before giving up.
    public let maxAttempts: Int
    /// A stream that goes on past the plan (`build --out - --endless`): shard s >= shardCount
    /// holds the full range s x shardSize ..< (s+1) x shardSize, its rounds seeded by s as any
    /// shard's are, so it is what shard s of a larger build with the same flags holds.
    public var endless = false

    public init(classes: [Int], perClass: Int, shardSize: Int, maxAttempts: Int) {
        self.classes = classes; self.perClass = perClass; self.shardSize = shardSize; self.maxAttempts = maxAttempts
    }

    public var totalSamples: Int { classes.count * perClass }
    public var shardCount: Int { (totalSamples + shardSize - 1) / shardSize }

    public func range(ofShard s: Int) -> Range<Int> {
        if endless && s >= shardCount { return (s * shardSize)..<((s + 1) * shardSize) }
        return (s * shardSize)..<min((s + 1) * shardSize, totalSamples)
    }

    /// The planned global indices of the class at `position` (in `classes`) inside shard s, ascending.
    public func indices(shard s: Int, position j: Int) -> [Int] {
        let r = range(ofShard: s), c = classes.count
        let first = r.lowerBound + ((j - r.lowerBound % c) % c + c) % c
        return Array(stride(from: first, to: r.upperBound, by: c))
    }

    /// The candidate budget of one unit: the class's maxAttempts in proportion to the unit's share.
    public func budget(needed: Int) -> Int {
        (maxAttempts * needed + perClass - 1) / perClass
    }

    /// Shards a worker owns: s mod workers == worker.
    public func shards(worker: Int, of workers: Int) -> [Int] {
        Array(stride(from: worker, to: shardCount, by: workers))
    }

    /// The size of the next round of candidates, from what this unit has seen so far (integers
    /// only, so it is the same on every machine). A first round asks for what is needed; later
    /// rounds for what the observed pass rate says is still needed plus 25%, at least the source's
    /// preferred batch, at most 8 preferred batches or 4x the need, never past the budget.
    public static func roundSize(remaining: Int, generated: Int, passed: Int, budgetLeft: Int,
                                 preferred: Int, filtered: Bool, previous: Int) -> Int {
        guard remaining > 0, budgetLeft > 0 else { return 0 }
        if !filtered { return min(remaining, budgetLeft) }
        let cap = max(8 * preferred, 4 * remaining)
        var size: Int
        if generated == 0 {
            size = remaining
        } else if passed == 0 {
            size = previous * 2
        } else {
            size = (remaining * generated * 5 + passed * 4 - 1) / (passed * 4)
        }
        size = min(max(size, preferred, 1), cap)
        return min(size, budgetLeft)
    }
}
