import Datasets
import Dispatch
import Engine
import Support
import Filter
import Foundation
import Models
import Shards
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
/// `prepare` does everything that can fail on bad input (models, classes, flags) before the output
/// directory is touched; `run` writes shards one at a time (each complete before the next starts)
/// and records each with a hidden resume record; the manifest comes last.
public final class BuildRunner {
    public let options: BuildOptions
    public let source: SampleSource
    public let filter: ConfidenceFilter?
    /// --reject-near-copies: the real images and the rule candidates are checked against.
    public let nearCopies: (index: NearCopyIndex, rule: NearCopyRule)?
    public let plan: BuildPlan
    public private(set) var record: BuildRecord
    public let part: PartInfo?
    public let name: String
    private let buildID: String
    private let dir: String

    public init(options: BuildOptions, toolVersion: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                makeSource: (SourceRequest) throws -> SampleSource = SourceFactory.make) throws {
        self.options = options
        dir = options.out
        name = options.shardName
        try ShardFiles.checkName(name)
        guard options.perClass >= 1 else { throw SynthError("--per-class \(options.perClass): must be positive (at least 1 sample per class)") }
        guard options.shardSize >= 1 else { throw SynthError("--shard-size \(options.shardSize): must be positive (at least 1 sample per shard)") }
        guard options.threshold >= 0 && options.threshold < 1 else { throw SynthError("--threshold must be in [0, 1)") }
        if let m = options.maxAttempts, m < options.perClass {
            throw SynthError("--max-attempts \(m) is below --per-class \(options.perClass)")
        }
        if options.noFilter && !options.filters.isEmpty { throw SynthError("give --filter or --no-filter, not both") }
        part = try WorkerSelection.resolve(workers: options.workers, worker: options.worker, environment: environment)

        let (kind, kindOptions) = try SourceRequest.parseKind(options.source)
        let request = SourceRequest(kind: kind, classifier: options.classifier, reconstructor: options.reconstructor,
                                    generators: options.generators, inputGenerator: options.inputGenerator, seed: options.seed,
                                    options: options.sourceOptions.merging(kindOptions) { _, new in new })
        source = try makeSource(request)
        let shape = source.imageShape
        guard shape.count == 3, shape[0] == 1 || shape[0] == 3, shape[1] > 0, shape[2] > 0 else {
            throw SynthError("source '\(kind)' makes \(shape) images; shards hold gray or RGB")
        }
        let classes = try ClassSelection.parse(options.classes, classNames: source.classNames,
                                               origin: options.classifier.map { "the classifier \($0)" } ?? "source '\(kind)'")

        // Models: the source's, then the filter's; every one hashed into the manifest.
        var models: [ModelRecord] = []
        for path in source.modelFiles {
            let digest = try FileDigest.read(path).digest
            models.append(ModelRecord(role: source.role(ofModel: path), path: BuildRecord.modelName(path), sha256: digest.sha256, bytes: digest.size))
        }
        var filterPaths: [String] = []
        if options.noFilter {
            filter = nil
        } else {
            filterPaths = options.filters.isEmpty ? [BuildDefaults.filterModel(source: kind)] : options.filters
            if options.filters.isEmpty && !Files.exists(filterPaths[0]) {
                throw SynthError.file(filterPaths[0], "default filter model not found (set SYNTH_MODELS_DIR, pass --filter M, or --no-filter)")
            }
            var classifiers: [Classifier] = []
            for path in filterPaths {
                let c = try ModelFile.loadClassifier(path)
                guard c.card.classes == source.classNames.count else {
                    throw SynthError.file(path, "has \(c.card.classes) classes, the source has \(source.classNames.count)")
                }
                guard c.card.inputShape == shape else {
                    throw SynthError.file(path, "expects \(c.card.inputShape) images, the source makes \(shape)")
                }
                let digest = try FileDigest.read(path).digest
                let sha = digest.sha256
                if models.contains(where: { $0.role == "classifier" && $0.sha256 == sha }) {
                    throw SynthError.file(path, "is the classifier the source inverts; the filter must be another model (see --filter)")
                }
                classifiers.append(c)
                models.append(ModelRecord(role: "filter", path: BuildRecord.modelName(path), sha256: sha, bytes: digest.size))
            }
            filter = try ConfidenceFilter(classifiers: classifiers, names: filterPaths, threshold: Float(options.threshold))
        }

        if options.rejectNearCopies {
            let rule = NearCopyRule(pixelRMS: options.nearCopyPixelRMS, cosine: options.nearCopyCosine)
            try rule.validate()
            let real = try Dataset.load(spec: options.nearCopyReal)
            guard [real.channels, real.height, real.width] == shape else {
                throw SynthError("--near-copy-real \(options.nearCopyReal) holds \([real.channels, real.height, real.width]) images, the source makes \(shape)")
            }
            var featureModel: Classifier?
            if rule.cosine != nil {
                guard let first = filter?.classifiers.first else {
                    throw SynthError("--near-copy-cosine compares the features of the filter model: it needs a filter (not --no-filter)")
                }
                featureModel = first
            }
            nearCopies = (try NearCopyIndex(real: real, featureModel: featureModel), rule)
        } else {
            guard options.nearCopyCosine == nil else { throw SynthError("--near-copy-cosine needs --reject-near-copies") }
            nearCopies = nil
        }

        let maxAttempts = options.maxAttempts ?? 20 * options.perClass
        plan = BuildPlan(classes: classes, perClass: options.perClass, shardSize: options.shardSize, maxAttempts: maxAttempts)
        // Model files by name: where they lay (SYNTH_MODELS_DIR, a worker's copies) changes no byte,
        // and models[] holds each one's SHA-256.
        let modelName = BuildRecord.modelName
        var recordedOptions = request.options
        if let ensemble = recordedOptions["ensemble"] {
            recordedOptions["ensemble"] = ensemble.split(separator: ",", omittingEmptySubsequences: false).map { modelName(String($0)) }.joined(separator: ",")
        }
        record = BuildRecord(command: "build", tool: toolVersion, source: source.sourceName,
                             sourceOptions: recordedOptions, sourceSettings: source.settings, seed: options.seed,
                             classes: classes, perClass: options.perClass, plannedSamples: plan.totalSamples,
                             shardSize: options.shardSize, threshold: options.noFilter ? nil : options.threshold,
                             maxAttempts: maxAttempts, classifier: options.classifier.map(modelName), filters: filterPaths.map(modelName),
                             reconstructor: options.reconstructor.map(modelName), generators: options.generators.map(modelName),
                             inputGenerator: options.inputGenerator.map(modelName), models: models)
        if let (_, rule) = nearCopies {
            record.rejectNearCopies = NearCopySettings(real: options.nearCopyReal, pixelRMS: rule.pixelRMS, cosine: rule.cosine)
        }
        buildID = record.id
    }

    private var myShards: [Int] { part.map { plan.shards(worker: $0.worker, of: $0.workers) } ?? Array(0..<plan.shardCount) }
    private func path(_ file: String) -> String { Files.join(dir, file) }
    private var finalManifestFile: String { part.map { ShardFiles.part(worker: $0.worker, of: $0.workers) } ?? ShardFiles.manifest }

    public func run(progress: ((BuildProgress) -> Void)? = nil) throws -> BuildSummary {
        try OutputDirectory.prepare(dir, allowExisting: options.resume || part != nil)
        let start = Date()
        let shards = myShards

        if let done = try existingComplete() { return done }
        var records = try resumeState()
        let resumed = records.count
        var written = records.values.reduce(0) { $0 + $1.entry.nsamples }
        var candidates = 0, passed = 0, kept = 0
        var unitsDone = 0
        let unitsTotal = max(1, (shards.count - resumed) * plan.classes.count)

        for s in shards where records[s] == nil {
            let shard = try produce(shard: s) { stats in
                unitsDone += 1
                candidates += stats.generated
                passed += stats.accepted + stats.surplus
                kept += stats.accepted
                progress?(BuildProgress(shardsDone: records.count, shardsTotal: shards.count, shardsResumed: resumed,
                                        samplesWritten: written, candidates: candidates, passed: passed, kept: kept,
                                        elapsed: Date().timeIntervalSince(start), fraction: Double(unitsDone) / Double(unitsTotal)))
            }
            try Files.writeAtomically(shard.encoded(), to: path(ShardFiles.done(name, s)))
            TestCrash.point("recorded")
            records[s] = shard
            written += shard.entry.nsamples
            // Rounds of new sizes leave the pool holding blocks of size classes no later round may
            // use (a CaG build's RSS grew 453 -> 576 MB over three shards); between shards, hand
            // the idle blocks back so resident memory stays at one shard's working set.
            BufferPool.shared.trim()
        }

        let manifest = Manifest.assemble(name: name, classes: source.classNames, imageShape: source.imageShape, build: record,
                                         records: Array(records.values), histogramBins: AcceptanceStats.histogramBins, part: part)
        let manifestPath = path(finalManifestFile)
        try Files.writeAtomically(manifest.encoded(), to: manifestPath)
        TestCrash.point("manifest")
        try removeLeftovers()
        return BuildSummary(manifest: manifest, manifestPath: manifestPath, shardsBuilt: shards.count - resumed,
                            shardsResumed: resumed, alreadyComplete: false)
    }

    // MARK: - State of the directory

    /// When the directory already holds this build's final (or part) manifest: checks it and its
    /// shards and returns it; refuses it without --resume or when it is another build's.
    private func existingComplete() throws -> BuildSummary? {
        let manifestPath = path(finalManifestFile)
        let merged = path(ShardFiles.manifest)
        let candidate = Files.exists(manifestPath) ? manifestPath : (part != nil && Files.exists(merged) ? merged : nil)
        guard let found = candidate else { return nil }
        guard options.resume else {
            throw SynthError.file(found, "this output is already complete (use --resume to check it, or another --out)")
        }
        let m = try Manifest.read(found)
        guard m.build == record, m.name == name else {
            let field = m.name == name ? m.build.firstDifference(from: record) ?? "build" : "name"
            throw SynthError.file(found, "holds a build with other flags, models or tool version (it differs in \(field)); refusing to mix them")
        }
        for e in m.shardlist {
            let shard = path(e.url)
            guard let problem = ShardVerifier.mismatchOfFile(shard, e) else { continue }
            throw SynthError.file(shard, "\(problem) though \((found as NSString).lastPathComponent) says the build is complete; it was damaged afterwards: build again into a new directory")
        }
        try removeLeftovers()
        return BuildSummary(manifest: m, manifestPath: found, shardsBuilt: 0, shardsResumed: m.shardlist.count, alreadyComplete: true)
    }

    /// The complete shards a resumed build keeps (their records and hashes check out), after
    /// removing every incomplete piece of this process's shards. Without --resume, refuses to
    /// touch a directory holding any of this process's files.
    private func resumeState() throws -> [Int: ShardRecord] {
        let files = try Files.list(dir)
        let mine = Set(myShards)
        // Pieces of another build never mix with this one.
        // Other workers may remove their records and parts while we look: a vanished file is skipped.
        for f in files where f.hasPrefix(".") && f.hasSuffix(".done.json") {
            let r: ShardRecord
            do { r = try ShardRecord.read(path(f)) } catch where !Files.exists(path(f)) { continue }
            guard r.buildID == buildID else {
                throw SynthError.file(path(f), "belongs to a build with other flags, models or tool version; refusing to mix them (use another --out)")
            }
        }
        for f in files where ShardFiles.parsePart(f) != nil {
            let other: Manifest
            do { other = try Manifest.read(path(f)) } catch where !Files.exists(path(f)) { continue }
            guard other.build == record else {
                throw SynthError.file(path(f), "belongs to a build with other flags, models or tool version (it differs in \(other.build.firstDifference(from: record) ?? "build")); refusing to mix them (use another --out)")
            }
        }
        for f in files {
            if let s = ShardFiles.shardIndex(f, name: name), s >= plan.shardCount {
                throw SynthError.file(path(f), "is not a shard of this build (it plans \(counted(plan.shardCount, "shard")))")
            }
        }
        if !options.resume {
            // Only reachable for workers: the directory may hold the other workers' files.
            for s in mine {
                for f in [ShardFiles.shard(name, s), ShardFiles.partial(name, s), ShardFiles.done(name, s)] where Files.exists(path(f)) {
                    throw SynthError.file(path(f), "already exists: worker \(part!.worker) ran here before (use --resume)")
                }
            }
            return [:]
        }

        var records: [Int: ShardRecord] = [:]
        for s in myShards {
            try Files.remove(path(ShardFiles.partial(name, s)))
            try Files.remove(path("." + ShardFiles.done(name, s) + ".tmp"))
            let donePath = path(ShardFiles.done(name, s)), shardPath = path(ShardFiles.shard(name, s))
            guard Files.exists(donePath) else { continue }
            let r = try ShardRecord.read(donePath)
            if r.index == s, r.entry.url == ShardFiles.shard(name, s), ShardVerifier.mismatchOfFile(shardPath, r.entry) == nil {
                records[s] = r
            } else {
                // The record outlived its shard (or the shard was damaged): build it again.
                try Files.remove(donePath)
            }
        }
        try Files.remove(path("." + finalManifestFile + ".tmp"))
        Files.syncDirectory(dir)
        return records
    }

    /// Removes this process's resume records and temporaries once a manifest holds them.
    private func removeLeftovers() throws {
        for s in myShards {
            try Files.remove(path(ShardFiles.partial(name, s)))
            try Files.remove(path(ShardFiles.done(name, s)))
            TestCrash.point("cleanup")
        }
        Files.syncDirectory(dir)
    }

    // MARK: - Producing a shard

    struct Accepted {
        var pixels: [UInt8]
        var probs: [Float]?
        var seed: UInt64
        var slot: Int
        var batch: Int
    }

    /// Generates, filters and writes shard s; returns its resume record.
    func produce(shard s: Int, unitDone: (ClassStats) -> Void) throws -> ShardRecord {
        let shape = source.imageShape
        let imageBytes = shape.reduce(1, *)
        var samples: [(index: Int, cls: Int, sample: Accepted)] = []
        var stats: [ClassStats] = []
        for (j, c) in plan.classes.enumerated() {
            let indices = plan.indices(shard: s, position: j)
            let (accepted, st) = try runUnit(shard: s, classIndex: c, needed: indices.count, imageBytes: imageBytes)
            var cs = ClassStats(classIndex: c, name: source.classNames[c], bins: AcceptanceStats.histogramBins)
            cs.generated = st.generated; cs.accepted = st.accepted; cs.surplus = st.surplus
            cs.rejectedWrongClass = st.wrongClass; cs.rejectedLowConfidence = st.lowConfidence
            if nearCopies != nil { cs.rejectedNearCopy = st.nearCopy }
            cs.confidenceHistogram = st.histogram
            stats.append(cs)
            for (k, a) in accepted.enumerated() { samples.append((indices[k], c, a)) }
            TestCrash.point("unit")
            unitDone(cs)
        }
        samples.sort { $0.index < $1.index }

        // PNG and json on every core, one encoder per lane; the tar is written in order afterwards.
        var encoded = [ShardSample?](repeating: nil, count: samples.count)
        let lanes = max(1, min(ProcessInfo.processInfo.activeProcessorCount, samples.count))
        let sourceName = source.sourceName, names = source.classNames
        encoded.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                let encoder = PNGEncoder()
                var k = lane
                while k < samples.count {
                    let (index, cls, a) = samples[k]
                    let png = a.pixels.withUnsafeBufferPointer {
                        encoder.encode(pixels: $0, width: shape[2], height: shape[1], channels: shape[0])
                    }
                    let json = SampleRecord(classIndex: cls, className: names[cls], source: sourceName,
                                            confidence: a.probs.map { $0[cls] }, probs: a.probs,
                                            seed: a.seed, slot: a.slot, batch: a.batch).json()
                    base[k] = ShardSample(index: index, classIndex: cls, json: json, png: png)
                    k += lanes
                }
            }
        }
        let entry = try ShardWriter.write(dir: dir, name: name, index: s, firstIndex: plan.range(ofShard: s).lowerBound,
                                          classCount: source.classNames.count, samples: encoded.map { $0! })
        return ShardRecord(buildID: buildID, index: s, entry: entry, stats: stats)
    }

    /// One class's share of one shard: rounds of candidates until `needed` pass or the budget is spent.
    func runUnit(shard s: Int, classIndex c: Int, needed: Int, imageBytes: Int) throws -> ([Accepted], AcceptanceStats) {
        var accepted: [Accepted] = []
        var stats = AcceptanceStats()
        let budget = plan.budget(needed: needed)
        var round = 0, previous = 0
        while true {
            let size = BuildPlan.roundSize(remaining: needed - accepted.count, generated: stats.generated,
                                           passed: stats.accepted + stats.surplus, budgetLeft: budget - stats.generated,
                                           preferred: max(1, source.preferredBatch), filtered: filter != nil, previous: previous)
            if size == 0 { break }
            let seed = RNG.derive(options.seed, UInt64(s), UInt64(c), UInt64(round))
            let images = try source.generate(label: c, count: size, seed: seed)
            guard images.shape == [size] + source.imageShape else {
                throw SynthError("source '\(source.sourceName)' returned \(images.shape) for \(size) images of \(source.imageShape)")
            }
            let pixels = try Quantize.pixels(images)
            let probs = try filter.map { f in try pixels.withUnsafeBufferPointer { try f.probabilities($0, count: size) } }
            let k = source.classNames.count
            func passes(_ slot: Int) -> Bool {
                guard let filter, let probs else { return true }
                if case .accepted = filter.judge(probs[(slot * k)..<((slot + 1) * k)], label: c) { return true }
                return false
            }
            // Near-copies among the candidates the confidence filter lets through.
            var copies = [Bool](repeating: false, count: size)
            if let (index, rule) = nearCopies {
                let passing = (0..<size).filter(passes)
                var batch: [UInt8] = []
                batch.reserveCapacity(passing.count * imageBytes)
                for slot in passing { batch += pixels[(slot * imageBytes)..<((slot + 1) * imageBytes)] }
                let matches = try batch.withUnsafeBufferPointer { try index.match($0, count: passing.count) }
                for (j, slot) in passing.enumerated() where rule.isNearCopy(matches[j]) { copies[slot] = true }
            }
            for slot in 0..<size {
                let want = accepted.count < needed
                var take = false
                var vector: [Float]?
                if copies[slot] {
                    stats.recordNearCopy()
                } else if let filter, let probs {
                    let row = probs[(slot * k)..<((slot + 1) * k)]
                    let verdict = filter.judge(row, label: c)
                    if case .accepted = verdict { take = want; vector = Array(row) }
                    stats.record(verdict, kept: take)
                } else {
                    take = want
                    stats.recordUnfiltered(kept: take)
                }
                if take {
                    accepted.append(Accepted(pixels: Array(pixels[(slot * imageBytes)..<((slot + 1) * imageBytes)]),
                                             probs: vector, seed: seed, slot: slot, batch: size))
                }
            }
            previous = size
            round += 1
        }
        return (accepted, stats)
    }
}
