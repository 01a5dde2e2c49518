import Datasets
import Engine
import Foundation
import Shards
import Support
import Synth

/// Progress of a stream, reported after every class of every shard.
public struct StreamProgress: Sendable {
    /// Samples on the stream so far.
    public var written: Int
    /// Samples kept by the filter so far (written, or waiting for the rest of their shard).
    public var kept: Int
    public var candidates: Int
    public var passed: Int
    public var shardsDone: Int
    public var elapsed: Double
}

public struct StreamSummary: Sendable {
    public var samples: Int
    public var shards: Int
    /// True when the reader closed the stream before its end (EPIPE).
    public var readerClosed: Bool
    public var elapsed: Double
}

/// `synth build --out -`: the build's samples as one uncompressed tar stream on a descriptor, and
/// the same samples in memory for a feed (`replay-eval --feed`). Nothing touches the disk: no
/// shards, no manifest, no resume records.
///
/// The stream is the build's shards' members concatenated in key order, shard after shard: each
/// member (its ustar header, its data, its padding) is byte for byte the member of the directory
/// build with the same flags and seed, and one end-of-archive and padding close the stream, as
/// they close a shard. A shard is the unit of work (its classes interleave in key order), so a
/// shard's members go out when its last class is done: --shard-size sets how often the stream
/// moves (and, as for a directory, which samples are drawn). `count` stops after that many
/// samples (a prefix of the stream); `endless` goes on past the plan with shards
/// plan.shardCount, plan.shardCount + 1, ... (`BuildPlan.endless`), new seeds each, until the
/// reader closes the stream.
public final class BuildStream {
    public let plan: BuildPlan
    public let source: SampleSource
    private let production: ShardProduction

    public init(options: BuildOptions, toolVersion: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                endless: Bool = false, makeSource: (SourceRequest) throws -> SampleSource = SourceFactory.make) throws {
        let setup = try BuildSetup(options: options, toolVersion: toolVersion, environment: environment, makeSource: makeSource)
        var plan = setup.plan
        plan.endless = endless
        self.plan = plan
        source = setup.source
        production = ShardProduction(rounds: CandidateRounds(source: setup.source, filter: setup.filter, labeller: setup.labeller, nearCopies: setup.nearCopies,
                                                             plan: plan, seed: options.seed),
                                     dir: "", name: options.shardName, buildID: setup.record.id)
    }

    /// Writes the stream to `fd` (left open). The reader closing it ends the stream quietly
    /// (`readerClosed`); any other write failure is an error naming `label`.
    public func write(to fd: Int32, label: String, count: Int? = nil, progress: ((StreamProgress) -> Void)? = nil) throws -> StreamSummary {
        let start = Date()
        let tar = try TarWriter(streamingTo: fd, label: label)
        var p = StreamProgress(written: 0, kept: 0, candidates: 0, passed: 0, shardsDone: 0, elapsed: 0)
        func summary(closed: Bool) -> StreamSummary {
            StreamSummary(samples: p.written, shards: p.shardsDone, readerClosed: closed, elapsed: Date().timeIntervalSince(start))
        }
        do {
            var s = 0
            while (plan.endless || s < plan.shardCount) && p.written < (count ?? Int.max) {
                let (samples, _) = try production.samples(shard: s) { stats in
                    p.candidates += stats.generated
                    p.passed += stats.accepted + stats.surplus
                    p.kept += stats.accepted
                    p.elapsed = Date().timeIntervalSince(start)
                    progress?(p)
                }
                let take = min(samples.count, (count ?? Int.max) - p.written)
                for sample in production.encode(Array(samples.prefix(take))) {
                    try tar.add(sample: sample)
                    p.written += 1
                }
                p.shardsDone += 1
                p.elapsed = Date().timeIntervalSince(start)
                progress?(p)
                BufferPool.shared.trim()
                s += 1
            }
            try tar.finish()
        } catch is TarStreamClosed {
            return summary(closed: true)
        }
        return summary(closed: false)
    }

    /// The plan's kept samples in key order as a dataset in the source's label space (a feed's
    /// draw): the pixels and classes the stream's members hold.
    public func dataset(name: String) throws -> Dataset {
        var pixels: [UInt8] = [], labels: [Int] = []
        for s in 0..<plan.shardCount {
            for p in try production.samples(shard: s, unitDone: { _ in }).samples {
                pixels += p.kept.pixels
                labels.append(p.cls)
            }
            BufferPool.shared.trim()
        }
        let shape = source.imageShape
        return Dataset(name: name, pixels: pixels, count: labels.count, channels: shape[0], height: shape[1], width: shape[2],
                       labels: labels, classNames: source.classNames)
    }
}
