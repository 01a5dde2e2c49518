import Foundation
import Support

/// A selected class that kept fewer samples than its shards planned (the filter's attempt budget
/// ran out for it).
public struct ClassShortfall: Sendable, Equatable {
    public var classIndex: Int
    public var name: String
    public var planned: Int
    public var kept: Int
    public var missing: Int { planned - kept }
}

extension Manifest {
    /// Every selected class whose shards hold fewer samples than they plan, in build order. A
    /// worker's part plans only its own shards, so a part (and the merge of parts) is short
    /// exactly when the single-process build of the same flags is. Packs plan what they hold.
    /// The manifest needs no extra field for it: `num_samples` below `build.planned_samples`
    /// and the shards' `class_counts` already say it, and nothing can make them disagree.
    public var shortfall: [ClassShortfall] {
        guard build.command == "build", !build.classes.isEmpty else { return [] }
        let c = build.classes.count
        // Planned sample i is of the class at position i mod C: how many of [0, n) are at position j.
        func upTo(_ n: Int, _ j: Int) -> Int { n / c + (n % c > j ? 1 : 0) }
        var planned = [Int](repeating: 0, count: c), kept = [Int](repeating: 0, count: c)
        for e in shardlist {
            let end = min(e.firstIndex + build.shardSize, build.plannedSamples)
            for (j, cls) in build.classes.enumerated() {
                planned[j] += upTo(end, j) - upTo(e.firstIndex, j)
                if cls >= 0 && cls < e.classCounts.count { kept[j] += e.classCounts[cls] }
            }
        }
        return build.classes.enumerated().compactMap { j, cls in
            kept[j] < planned[j] ? ClassShortfall(classIndex: cls, name: cls < classes.count ? classes[cls] : String(cls),
                                                  planned: planned[j], kept: kept[j]) : nil
        }
    }

    /// The samples its shards plan (all of `build.planned_samples` unless a worker's part).
    public var plannedSamplesOfShards: Int {
        shardlist.reduce(0) { $0 + max(0, min($1.firstIndex + build.shardSize, build.plannedSamples) - $1.firstIndex) }
    }

    /// "52 of 60 planned samples (Pullover 8 short, 12 of 20; Coat 20 short, 0 of 20)", or nil when
    /// nothing fell short. Past `shortfallClassesListed` classes the rest are counted, not listed,
    /// so a 100-class build's message stays a line a reader takes in ("...; and 70 more classes").
    public var shortfallText: String? {
        let short = shortfall
        guard !short.isEmpty else { return nil }
        let listed = short.prefix(Self.shortfallClassesListed)
        var classes = listed.map { "\($0.name) \($0.missing) short, \($0.kept) of \($0.planned)" }
        if short.count > listed.count { classes.append("and \(counted(short.count - listed.count, "more class", plural: "more classes"))") }
        return "\(numSamples) of \(plannedSamplesOfShards) planned samples (\(classes.joined(separator: "; ")))"
    }

    public static let shortfallClassesListed = 10
}
