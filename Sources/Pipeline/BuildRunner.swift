import Engine
import Filter
import Foundation
import Shards
import Support
import Synth

/// Progress of a build, reported after every unit of work.
public struct BuildProgress: Sendable {
    public var shardsDone: Int
    public var shardsTotal: Int
    public var shardsResumed: Int
    public var samplesWritten: Int
    public var candidates: Int
    public var passed: Int
    /// Samples kept by this run so far (resumed shards not counted), complete shards or not:
    /// what a rate is measured on, since a slow source completes a shard only every few minutes.
    public var kept: Int
    public var elapsed: Double
    /// Fraction of this process's planned work done.
    public var fraction: Double
}

public struct BuildSummary: Sendable {
    /// manifest.json (single process) or the part manifest (worker).
    public var manifest: Manifest
    public var manifestPath: String
    public var shardsBuilt: Int
    public var shardsResumed: Int
    /// True when the directory already held this complete build.
    public var alreadyComplete: Bool
}

/// `synth build`: source -> filter -> shards + manifest.json, resumable and shardable over workers.
///
/// The steps, one file each: `BuildSetup` does everything that can fail on bad input (models,
/// classes, flags) before the output directory is touched; `BuildResume` keeps what a previous run
/// completed; `ShardProduction` makes the missing shards one at a time (each complete before the
/// next starts) from `CandidateRounds`, encoded by `SampleEncoder`; `run` records each shard for
/// resume and writes the manifest last.
public final class BuildRunner {
    public let options: BuildOptions
    public let source: SampleSource
    public let filter: ConfidenceFilter?
    /// --reject-near-copies: the real images and the rule candidates are checked against.
    public let nearCopies: (index: NearCopyIndex, rule: NearCopyRule)?
    public let plan: BuildPlan
    public let record: BuildRecord
    public let part: PartInfo?
    public let name: String
    private let resume: BuildResume
    private let production: ShardProduction

    public init(options: BuildOptions, toolVersion: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                makeSource: (SourceRequest) throws -> SampleSource = SourceFactory.make) throws {
        let setup = try BuildSetup(options: options, toolVersion: toolVersion, environment: environment, makeSource: makeSource)
        self.options = options
        name = options.shardName
        source = setup.source
        filter = setup.filter
        nearCopies = setup.nearCopies
        plan = setup.plan
        record = setup.record
        part = setup.part
        resume = BuildResume(dir: options.out, name: name, record: record, plan: plan, part: part, resume: options.resume)
        production = ShardProduction(rounds: CandidateRounds(source: source, filter: filter, labeller: setup.labeller, nearCopies: nearCopies, plan: plan, seed: options.seed),
                                     dir: options.out, name: name, buildID: record.id)
    }

    public func run(progress: ((BuildProgress) -> Void)? = nil) throws -> BuildSummary {
        try OutputDirectory.prepare(options.out, allowExisting: options.resume || part != nil)
        let start = Date()
        let shards = resume.shards

        if let done = try resume.existingComplete() { return done }
        var records = try resume.keptShards()
        let resumed = records.count
        var written = records.values.reduce(0) { $0 + $1.entry.nsamples }
        var candidates = 0, passed = 0, kept = 0
        var unitsDone = 0
        let unitsTotal = max(1, (shards.count - resumed) * plan.classes.count)

        for s in shards where records[s] == nil {
            let shard = try production.produce(shard: s) { stats in
                unitsDone += 1
                candidates += stats.generated
                passed += stats.accepted + stats.surplus
                kept += stats.accepted
                progress?(BuildProgress(shardsDone: records.count, shardsTotal: shards.count, shardsResumed: resumed,
                                        samplesWritten: written, candidates: candidates, passed: passed, kept: kept,
                                        elapsed: Date().timeIntervalSince(start), fraction: Double(unitsDone) / Double(unitsTotal)))
            }
            try resume.recordComplete(shard)
            records[s] = shard
            written += shard.entry.nsamples
            // Rounds of new sizes leave the pool holding blocks of size classes no later round may
            // use (a CaG build's RSS grew 453 -> 576 MB over three shards); between shards, hand
            // the idle blocks back so resident memory stays at one shard's working set.
            BufferPool.shared.trim()
        }

        let manifest = Manifest.assemble(name: name, classes: source.classNames, imageShape: source.imageShape, build: record,
                                         records: Array(records.values), histogramBins: ClassStats.histogramBins, part: part)
        let manifestPath = resume.path(resume.manifestFile)
        try Files.writeAtomically(manifest.encoded(), to: manifestPath)
        TestCrash.point("manifest")
        try resume.removeLeftovers()
        return BuildSummary(manifest: manifest, manifestPath: manifestPath, shardsBuilt: shards.count - resumed,
                            shardsResumed: resumed, alreadyComplete: false)
    }
}
