import Foundation
import Support

/// manifest.json: WebDataset's wids shard index ("__kind__", "wids_version", "shardlist" with
/// "url" and "nsamples") plus what synth knows about the data: hashes, class counts, every build
/// setting and the filter's statistics. Schema: manifests/manifest.schema.json.
///
/// Encoded with sorted keys and pretty-printed, and holding no times, host names or output paths,
/// so the same build gives the same manifest bytes however it ran (one process, workers + merge,
/// or resumed).
public struct Manifest: Codable, Equatable, Sendable {
    public var kind = "wids-shard-index-v1"
    public var widsVersion = 1
    public var name: String
    public var format = "webdataset"
    public var members = ["cls", "json", "png"]
    public var numSamples: Int
    /// Every class name of the label space; a sample's .cls indexes this list.
    public var classes: [String]
    /// [channels, height, width] of every image.
    public var imageShape: [Int]
    public var shardlist: [ShardEntry]
    public var build: BuildRecord
    /// nil for packed real data.
    public var filter: FilterReport?
    /// Set only in a worker's part manifest.
    public var part: PartInfo?
    /// Sections added after the build by other commands ("audit" by `synth audit`, "evaluations"
    /// by `synth cas` and `synth compress`), kept as JSON so every reader and rewriter of the
    /// manifest preserves them; their owners read and write them through `section`/`setSection`.
    /// None is covered by a shard hash, so they never affect `verify`.
    public var sections: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind = "__kind__", widsVersion = "wids_version", name, format, members
        case numSamples = "num_samples", classes, imageShape = "image_shape", shardlist, build, filter, part
    }

    public init(name: String, classes: [String], imageShape: [Int], shardlist: [ShardEntry],
                build: BuildRecord, filter: FilterReport?, part: PartInfo? = nil) {
        self.name = name
        self.classes = classes
        self.imageShape = imageShape
        self.shardlist = shardlist
        self.numSamples = shardlist.reduce(0) { $0 + $1.nsamples }
        self.build = build
        self.filter = filter
        self.part = part
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(String.self, forKey: .kind)
        widsVersion = try c.decode(Int.self, forKey: .widsVersion)
        name = try c.decode(String.self, forKey: .name)
        format = try c.decode(String.self, forKey: .format)
        members = try c.decode([String].self, forKey: .members)
        numSamples = try c.decode(Int.self, forKey: .numSamples)
        classes = try c.decode([String].self, forKey: .classes)
        imageShape = try c.decode([Int].self, forKey: .imageShape)
        shardlist = try c.decode([ShardEntry].self, forKey: .shardlist)
        build = try c.decode(BuildRecord.self, forKey: .build)
        filter = try c.decodeIfPresent(FilterReport.self, forKey: .filter)
        part = try c.decodeIfPresent(PartInfo.self, forKey: .part)
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        let all = try decoder.container(keyedBy: AnyKey.self)
        for key in all.allKeys where !known.contains(key.stringValue) {
            sections[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind); try c.encode(widsVersion, forKey: .widsVersion)
        try c.encode(name, forKey: .name); try c.encode(format, forKey: .format); try c.encode(members, forKey: .members)
        try c.encode(numSamples, forKey: .numSamples); try c.encode(classes, forKey: .classes)
        try c.encode(imageShape, forKey: .imageShape); try c.encode(shardlist, forKey: .shardlist)
        try c.encode(build, forKey: .build)
        try c.encodeIfPresent(filter, forKey: .filter); try c.encodeIfPresent(part, forKey: .part)
        var all = encoder.container(keyedBy: AnyKey.self)
        for (key, value) in sections { try all.encode(value, forKey: AnyKey(key)) }
    }

    /// A section added after the build, decoded as `type` (nil when absent).
    public func section<T: Decodable>(_ key: String, as type: T.Type) throws -> T? {
        guard let value = sections[key] else { return nil }
        do { return try value.decode(T.self) } catch {
            throw SynthError("manifest.json of \(name): section '\(key)' is not what this version of synth writes")
        }
    }

    /// Sets (or, with nil, removes) a section. The core keys are not sections.
    public mutating func setSection<T: Encodable>(_ key: String, _ value: T?) {
        precondition(!CodingKeys.allCases.contains { $0.stringValue == key }, "'\(key)' is a core manifest key")
        sections[key] = value.map { JSONValue(encoding: $0) }
    }

    /// Whether every sample's json carries probs (its soft label): a filtered build stores the
    /// filter's, a build with label models theirs.
    public var storesProbs: Bool { filter?.enabled == true || build.labelModels != nil }

    /// Pretty, key-sorted JSON with a final newline.
    public func encoded() -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try! e.encode(self)) + [10]
    }

    public static func decode(_ bytes: [UInt8], path: String) throws -> Manifest {
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, context) {
            throw SynthError.file(path, "not a synth manifest: no '\(pathText(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw SynthError.file(path, "not a synth manifest: '\(pathText(context.codingPath))' has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw SynthError.file(path, context.codingPath.isEmpty ? "not valid JSON"
                                  : "not a synth manifest: '\(pathText(context.codingPath))' is invalid")
        } catch {
            throw SynthError.file(path, "not a synth manifest")
        }
    }

    /// The largest manifest.json read (256 MiB: a million shards' entries fit in a few hundred
    /// bytes each); a larger file is refused before it is read.
    public static let maxFileSize = 1 << 28

    public static func read(_ path: String) throws -> Manifest {
        try decode(try Files.read(path, atMost: maxFileSize), path: path)
    }

    private static func pathText(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// One shard in the shardlist.
public struct ShardEntry: Codable, Equatable, Sendable {
    /// File name relative to the manifest.
    public var url: String
    public var nsamples: Int
    public var filesize: Int
    public var md5sum: String
    public var sha256: String
    /// The first planned global sample index of the shard: keys lie in
    /// [first_index, first_index + shard_size), with gaps where the filter ran out of attempts.
    public var firstIndex: Int
    /// Samples per class, indexed like `Manifest.classes`.
    public var classCounts: [Int]

    enum CodingKeys: String, CodingKey {
        case url, nsamples, filesize, md5sum, sha256, firstIndex = "first_index", classCounts = "class_counts"
    }

    public init(url: String, nsamples: Int, digest: FileDigest, firstIndex: Int, classCounts: [Int]) {
        self.url = url
        self.nsamples = nsamples
        self.filesize = digest.size
        self.md5sum = digest.md5
        self.sha256 = digest.sha256
        self.firstIndex = firstIndex
        self.classCounts = classCounts
    }

    public var digest: FileDigest { FileDigest(size: filesize, sha256: sha256, md5: md5sum) }
}

/// Everything that decides a dataset's content, as the user gave it, plus the hash of every model
/// file read and the tool version. How the work ran (--workers, --worker, --resume), where it was
/// written (--out) and where the model files lay (their directories, SYNTH_MODELS_DIR) are left
/// out: they do not change a byte. A model is named by its file name and identified by its SHA-256.
public struct BuildRecord: Codable, Equatable, Sendable {
    /// "build" or "pack".
    public var command: String
    /// "synth X.Y.Z".
    public var tool: String
    /// "cag", "gan", "gan-latent", "replay" (build) or "pack:SPEC".
    public var source: String
    public var sourceOptions: [String: String]
    public var sourceSettings: [String: String]
    /// A decimal string in the JSON (SeedJSON): `--seed` takes any unsigned 64-bit value.
    @SeedCoded public var seed: UInt64?
    /// The class indices built (sorted); sample i is of class classes[i mod classes.count].
    public var classes: [Int]
    public var perClass: Int?
    public var plannedSamples: Int
    public var shardSize: Int
    /// Filter settings; nil threshold means --no-filter.
    public var threshold: Double?
    public var maxAttempts: Int?
    public var classifier: String?
    public var filters: [String]
    /// `--label-model`: the models whose mean probabilities are the samples' probs (soft labels);
    /// nil: probs are the filter's (and absent with --no-filter). Left out of the JSON when nil,
    /// so records written before it keep their id.
    public var labelModels: [String]?
    public var reconstructor: String?
    public var generators: [String]
    public var inputGenerator: String?
    public var data: String?
    /// Every model file read, with its role and SHA-256.
    public var models: [ModelRecord]
    /// `--reject-near-copies`: candidates this close to a real image were dropped.
    public var rejectNearCopies: NearCopySettings?

    enum CodingKeys: String, CodingKey {
        case command, tool, source, sourceOptions = "source_options", sourceSettings = "source_settings", seed
        case classes, perClass = "per_class", plannedSamples = "planned_samples", shardSize = "shard_size"
        case threshold, maxAttempts = "max_attempts", classifier, filters, labelModels = "label_models", reconstructor, generators
        case inputGenerator = "input_generator", data, models, rejectNearCopies = "reject_near_copies"
    }

    public init(command: String, tool: String, source: String, sourceOptions: [String: String] = [:],
                sourceSettings: [String: String] = [:], seed: UInt64? = nil, classes: [Int], perClass: Int? = nil,
                plannedSamples: Int, shardSize: Int, threshold: Double? = nil, maxAttempts: Int? = nil,
                classifier: String? = nil, filters: [String] = [], reconstructor: String? = nil,
                generators: [String] = [], inputGenerator: String? = nil, data: String? = nil, models: [ModelRecord] = []) {
        self.command = command; self.tool = tool; self.source = source; self.sourceOptions = sourceOptions
        self.sourceSettings = sourceSettings; self.seed = seed; self.classes = classes; self.perClass = perClass
        self.plannedSamples = plannedSamples; self.shardSize = shardSize; self.threshold = threshold
        self.maxAttempts = maxAttempts; self.classifier = classifier; self.filters = filters
        self.reconstructor = reconstructor; self.generators = generators; self.inputGenerator = inputGenerator
        self.data = data; self.models = models
        self.rejectNearCopies = nil
    }

    /// SHA-256 of the record's canonical JSON: shards, resume records and part manifests of one
    /// build carry it, so pieces of different builds are never mixed.
    public var id: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return FileDigest.of(Array(try! e.encode(self))).sha256
    }

    /// Written so that no value a manifest can hold overflows (a hostile planned_samples near Int.max).
    public var shardCount: Int { shardSize > 0 && plannedSamples > 0 ? (plannedSamples - 1) / shardSize + 1 : 0 }

    /// How a model file is recorded: its file name, without the directory it was read from.
    public static func modelName(_ path: String) -> String { (path as NSString).lastPathComponent }
}

/// The near-copy rule a build applied (see Filter's NearCopyRule): a candidate whose nearest
/// image of `real` is closer than `pixelRMS` (RMS of [0, 1] pixels), or whose penultimate
/// features (of the first filter model) have a cosine above `cosine` with some real image's, is
/// rejected.
public struct NearCopySettings: Codable, Equatable, Sendable {
    public var real: String
    public var pixelRMS: Double
    public var cosine: Double?

    enum CodingKeys: String, CodingKey { case real, pixelRMS = "pixel_rms_below", cosine = "cosine_above" }

    public init(real: String, pixelRMS: Double, cosine: Double?) {
        self.real = real; self.pixelRMS = pixelRMS; self.cosine = cosine
    }
}

public struct ModelRecord: Codable, Equatable, Sendable {
    /// "classifier", "filter", "label" (--label-model), "reconstructor", "generator", "input-generator" or "source".
    public var role: String
    /// The file name (BuildRecord.modelName): the directory it was read from is not recorded.
    public var path: String
    public var sha256: String
    /// The file's size: what a receiver must hold to regenerate the data (compression accounting).
    public var bytes: Int?

    public init(role: String, path: String, sha256: String, bytes: Int? = nil) {
        self.role = role; self.path = path; self.sha256 = sha256; self.bytes = bytes
    }
}

/// The filter's account of every class: what was generated and why candidates were dropped.
public struct FilterReport: Codable, Equatable, Sendable {
    public var enabled: Bool
    public var threshold: Double?
    public var models: [String]
    /// Equal-width bins over [0, 1] of the accepted samples' confidence.
    public var histogramBins: Int
    public var classes: [ClassStats]

    enum CodingKeys: String, CodingKey {
        case enabled, threshold, models, histogramBins = "histogram_bins", classes
    }

    public init(enabled: Bool, threshold: Double?, models: [String], histogramBins: Int, classes: [ClassStats]) {
        self.enabled = enabled; self.threshold = threshold; self.models = models
        self.histogramBins = histogramBins; self.classes = classes
    }
}

/// What the filter did with one class's candidates (in one shard, or summed over a build): the
/// manifest's per-class filter section and the one spelling of these counts (the Filter module
/// records verdicts into it). generated = accepted + surplus + rejected_wrong_class +
/// rejected_low_confidence (+ rejected_near_copy with --reject-near-copies); surplus passed the
/// filter after the class's share of a shard was full (the rest of a batch).
public struct ClassStats: Codable, Equatable, Sendable {
    public var classIndex: Int
    public var name: String
    public var generated: Int
    public var accepted: Int
    public var surplus: Int
    public var rejectedWrongClass: Int
    public var rejectedLowConfidence: Int
    /// Passed the confidence filter but was a near-copy of a real image (only with --reject-near-copies).
    public var rejectedNearCopy: Int?
    public var confidenceHistogram: [Int]

    enum CodingKeys: String, CodingKey {
        case classIndex = "class", name, generated, accepted, surplus
        case rejectedWrongClass = "rejected_wrong_class", rejectedLowConfidence = "rejected_low_confidence"
        case rejectedNearCopy = "rejected_near_copy", confidenceHistogram = "confidence_histogram"
    }

    /// Every candidate is in exactly one of the counts.
    public var countsAddUp: Bool {
        let parts = [accepted, surplus, rejectedWrongClass, rejectedLowConfidence, rejectedNearCopy ?? 0]
        return nonNegativeSum(parts) == generated
    }

    /// All counts zero; `countsNearCopies` (a build with --reject-near-copies) records
    /// rejected_near_copy, even when none was found.
    public init(classIndex: Int, name: String, bins: Int, countsNearCopies: Bool = false) {
        self.classIndex = classIndex; self.name = name
        generated = 0; accepted = 0; surplus = 0; rejectedWrongClass = 0; rejectedLowConfidence = 0
        rejectedNearCopy = countsNearCopies ? 0 : nil
        confidenceHistogram = [Int](repeating: 0, count: bins)
    }

    /// Adds another account of the same class (another shard's).
    public mutating func add(_ other: ClassStats) {
        generated += other.generated; accepted += other.accepted; surplus += other.surplus
        rejectedWrongClass += other.rejectedWrongClass; rejectedLowConfidence += other.rejectedLowConfidence
        if let n = other.rejectedNearCopy { rejectedNearCopy = (rejectedNearCopy ?? 0) + n }
        for i in confidenceHistogram.indices where i < other.confidenceHistogram.count {
            confidenceHistogram[i] += other.confidenceHistogram[i]
        }
    }
}

public struct PartInfo: Codable, Equatable, Sendable {
    public var worker: Int
    public var workers: Int
    public init(worker: Int, workers: Int) { self.worker = worker; self.workers = workers }
}

/// What a build keeps beside a complete shard until a manifest holds it (`.NAME-NNNNNN.done.json`).
public struct ShardRecord: Codable, Equatable, Sendable {
    public var buildID: String
    public var index: Int
    public var entry: ShardEntry
    /// Per selected class, in build order.
    public var stats: [ClassStats]

    enum CodingKeys: String, CodingKey { case buildID = "build_id", index, entry, stats }

    public init(buildID: String, index: Int, entry: ShardEntry, stats: [ClassStats]) {
        self.buildID = buildID; self.index = index; self.entry = entry; self.stats = stats
    }

    public func encoded() -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try! e.encode(self)) + [10]
    }

    public static func read(_ path: String) throws -> ShardRecord {
        guard let r = try? JSONDecoder().decode(ShardRecord.self, from: Data(try Files.read(path, atMost: Manifest.maxFileSize))) else {
            throw SynthError.file(path, "unreadable resume record")
        }
        return r
    }
}

extension Manifest {
    /// The one way a manifest is put together from shard records, used by a single-process build,
    /// a worker's part and `merge` alike, so their outputs agree byte for byte.
    public static func assemble(name: String, classes: [String], imageShape: [Int], build: BuildRecord,
                                records: [ShardRecord], histogramBins: Int, part: PartInfo? = nil) -> Manifest {
        let sorted = records.sorted { $0.index < $1.index }
        return assemble(name: name, classes: classes, imageShape: imageShape, build: build, entries: sorted.map(\.entry),
                        stats: sorted.map(\.stats), histogramBins: histogramBins, part: part)
    }

    /// `entries` in shard order; `stats` are accounts per selected class to be summed (per shard or per part).
    public static func assemble(name: String, classes: [String], imageShape: [Int], build: BuildRecord,
                                entries: [ShardEntry], stats parts: [[ClassStats]], histogramBins: Int,
                                part: PartInfo? = nil) -> Manifest {
        var stats = build.classes.map {
            ClassStats(classIndex: $0, name: classes[$0], bins: histogramBins, countsNearCopies: build.rejectNearCopies != nil)
        }
        for p in parts {
            for (k, s) in p.enumerated() where k < stats.count { stats[k].add(s) }
        }
        let filter: FilterReport? = build.command == "build"
            ? FilterReport(enabled: build.threshold != nil, threshold: build.threshold, models: build.filters,
                           histogramBins: histogramBins, classes: stats)
            : nil
        return Manifest(name: name, classes: classes, imageShape: imageShape, shardlist: entries,
                        build: build, filter: filter, part: part)
    }
}

/// The sum of counts read from a file, or nil when one is negative or the sum overflows: counts in a
/// hostile manifest must fail a check, never trap.
public func nonNegativeSum<S: Sequence<Int>>(_ counts: S) -> Int? {
    var total = 0
    for n in counts {
        guard n >= 0 else { return nil }
        let (t, overflow) = total.addingReportingOverflow(n)
        if overflow { return nil }
        total = t
    }
    return total
}
