import Shards
import Support

/// Shard s of a build: each selected class's candidate rounds in turn, the kept samples put in key
/// order, encoded (`SampleEncoder`) and written as one complete tar; returns its resume record.
struct ShardProduction {
    let rounds: CandidateRounds
    let dir: String
    let name: String
    let buildID: String

    /// `unitDone` is told each class's account as soon as its rounds end (progress).
    func produce(shard s: Int, unitDone: (ClassStats) -> Void) throws -> ShardRecord {
        let source = rounds.source, plan = rounds.plan
        var samples: [(index: Int, cls: Int, kept: CandidateRounds.Kept)] = []
        var stats: [ClassStats] = []
        for (j, c) in plan.classes.enumerated() {
            let indices = plan.indices(shard: s, position: j)
            let (kept, account) = try rounds.run(shard: s, classIndex: c, needed: indices.count)
            stats.append(account)
            for (k, sample) in kept.enumerated() { samples.append((indices[k], c, sample)) }
            TestCrash.point("unit")
            unitDone(account)
        }
        samples.sort { $0.index < $1.index }

        let sourceName = source.sourceName, names = source.classNames
        let encoded = SampleEncoder(imageShape: source.imageShape).encode(samples.count) { k in
            let (index, cls, sample) = samples[k]
            let record = SampleRecord(classIndex: cls, className: names[cls], source: sourceName,
                                      confidence: sample.probs.map { $0[cls] }, probs: sample.probs,
                                      seed: sample.seed, slot: sample.slot, batch: sample.batch)
            return SampleEncoder.Sample(index: index, record: record, pixels: sample.pixels[...])
        }
        let entry = try ShardWriter.write(dir: dir, name: name, index: s, firstIndex: plan.range(ofShard: s).lowerBound,
                                          classCount: names.count, samples: encoded)
        return ShardRecord(buildID: buildID, index: s, entry: entry, stats: stats)
    }
}
