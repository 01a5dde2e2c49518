import Shards
import Support

/// Shard s of a build: each selected class's candidate rounds in turn, the kept samples put in key
/// order, encoded (`SampleEncoder`) and written as one complete tar; returns its resume record.
struct ShardProduction {
    let rounds: CandidateRounds
    let dir: String
    let name: String
    let buildID: String

    /// One kept sample of a shard: its planned index (the key), its class and what the rounds kept.
    struct Produced {
        var index: Int
        var cls: Int
        var kept: CandidateRounds.Kept
    }

    /// `unitDone` is told each class's account as soon as its rounds end (progress).
    func produce(shard s: Int, unitDone: (ClassStats) -> Void) throws -> ShardRecord {
        let (samples, stats) = try self.samples(shard: s, unitDone: unitDone)
        let entry = try ShardWriter.write(dir: dir, name: name, index: s, firstIndex: rounds.plan.range(ofShard: s).lowerBound,
                                          classCount: rounds.source.classNames.count, samples: encode(samples))
        return ShardRecord(buildID: buildID, index: s, entry: entry, stats: stats)
    }

    /// Shard s's kept samples in key order, and each class's account.
    func samples(shard s: Int, unitDone: (ClassStats) -> Void) throws -> (samples: [Produced], stats: [ClassStats]) {
        let plan = rounds.plan
        var samples: [Produced] = []
        var stats: [ClassStats] = []
        for (j, c) in plan.classes.enumerated() {
            let indices = plan.indices(shard: s, position: j)
            let (kept, account) = try rounds.run(shard: s, classIndex: c, needed: indices.count)
            stats.append(account)
            for (k, sample) in kept.enumerated() { samples.append(Produced(index: indices[k], cls: c, kept: sample)) }
            TestCrash.point("unit")
            unitDone(account)
        }
        samples.sort { $0.index < $1.index }
        return (samples, stats)
    }

    /// The members of `samples` (SampleEncoder), in their order.
    func encode(_ samples: [Produced]) -> [ShardSample] {
        let source = rounds.source
        let sourceName = source.sourceName, names = source.classNames
        return SampleEncoder(imageShape: source.imageShape).encode(samples.count) { k in
            let p = samples[k], sample = p.kept
            let record = SampleRecord(classIndex: p.cls, className: names[p.cls], source: sourceName,
                                      confidence: sample.confidence, probs: sample.probs,
                                      seed: sample.seed, slot: sample.slot, batch: sample.batch)
            return SampleEncoder.Sample(index: p.index, record: record, pixels: sample.pixels[...])
        }
    }
}
