import Datasets
import Filter
import Foundation
import Models
import Shards
import Support
import Synth

/// What a build's options come to, decided before the output directory is touched, so that
/// everything that can fail on bad input (flags, classes, models) fails first: the source, the
/// filter and its models, the near-copy check, the plan and the build record (with every model's
/// SHA-256) that the manifest and the resume records carry.
struct BuildSetup {
    let source: SampleSource
    let filter: ConfidenceFilter?
    /// --label-model: the models whose mean probabilities are stored as soft labels instead of
    /// the filter's (nil: the filter's, or none with --no-filter).
    let labeller: EnsembleProbabilities?
    let nearCopies: (index: NearCopyIndex, rule: NearCopyRule)?
    let plan: BuildPlan
    let record: BuildRecord
    let part: PartInfo?

    init(options: BuildOptions, toolVersion: String, environment: [String: String],
         makeSource: (SourceRequest) throws -> SampleSource) throws {
        try ShardFiles.checkName(options.shardName)
        guard options.perClass >= 1 else { throw SynthError("--per-class \(options.perClass): must be positive (at least 1 sample per class)") }
        guard options.shardSize >= 1 else { throw SynthError("--shard-size \(options.shardSize): must be positive (at least 1 sample per shard)") }
        if let t = options.threshold, !(t >= 0 && t < 1) { throw SynthError("--threshold must be in [0, 1)") }
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
        source.drawOnly(classes: classes)

        // Models: the source's, then the filter's; every one hashed into the manifest.
        var models: [ModelRecord] = []
        for path in source.modelFiles {
            let digest = try FileDigest.read(path).digest
            models.append(ModelRecord(role: source.role(ofModel: path), path: BuildRecord.modelName(path), sha256: digest.sha256, bytes: digest.size))
        }
        let threshold = options.threshold ?? BuildDefaults.threshold(source: kind)
        let defaultFilter = !options.noFilter && options.filters.isEmpty
        let filterPaths = options.noFilter ? [] : defaultFilter ? [BuildDefaults.filterModel(source: kind)] : options.filters
        filter = try Self.loadFilter(filterPaths, threshold: threshold, options: options, source: source, models: &models)
        // Soft labels: --label-model as given; without it, the default ensemble for a build with the
        // default filter, the filter's own probabilities for any other.
        let defaultLabels = options.labelModels.isEmpty && defaultFilter
        let labelPaths = defaultLabels ? BuildDefaults.labelModels(source: kind) : options.labelModels
        if defaultLabels, let missing = labelPaths.first(where: { !Files.exists($0) }) {
            throw SynthError.file(missing, "default label model not found (set SYNTH_MODELS_DIR, or pass --label-model M or --filter M)")
        }
        let labelModels = try Self.loadClassifiers(labelPaths, role: "label", source: source, models: &models)
        labeller = labelModels.isEmpty ? nil : try EnsembleProbabilities(classifiers: labelModels, names: labelPaths)
        nearCopies = try Self.nearCopyCheck(options, imageShape: shape, filter: filter)

        let maxAttempts = options.maxAttempts ?? 20 * options.perClass
        plan = BuildPlan(classes: classes, perClass: options.perClass, shardSize: options.shardSize, maxAttempts: maxAttempts)
        // Model files by name: where they lay (SYNTH_MODELS_DIR, a worker's copies) changes no byte,
        // and models[] holds each one's SHA-256.
        let modelName = BuildRecord.modelName
        var recordedOptions = request.options
        if let ensemble = recordedOptions["ensemble"] {
            recordedOptions["ensemble"] = ensemble.split(separator: ",", omittingEmptySubsequences: false).map { modelName(String($0)) }.joined(separator: ",")
        }
        var record = BuildRecord(command: "build", tool: toolVersion, source: source.sourceName,
                                 sourceOptions: recordedOptions, sourceSettings: source.settings, seed: options.seed,
                                 classes: classes, perClass: options.perClass, plannedSamples: plan.totalSamples,
                                 shardSize: options.shardSize, threshold: options.noFilter ? nil : threshold,
                                 maxAttempts: maxAttempts, classifier: options.classifier.map(modelName), filters: filterPaths.map(modelName),
                                 reconstructor: options.reconstructor.map(modelName), generators: options.generators.map(modelName),
                                 inputGenerator: options.inputGenerator.map(modelName), models: models)
        record.labelModels = labelPaths.isEmpty ? nil : labelPaths.map(modelName)
        if let (_, rule) = nearCopies {
            record.rejectNearCopies = NearCopySettings(real: options.nearCopyReal, pixelRMS: rule.pixelRMS, cosine: rule.cosine)
        }
        self.record = record
    }

    /// The filter classifiers at `paths` (none: --no-filter), each checked against the source and
    /// appended to `models` with its hash.
    private static func loadFilter(_ paths: [String], threshold: Double, options: BuildOptions, source: SampleSource,
                                   models: inout [ModelRecord]) throws -> ConfidenceFilter? {
        guard !paths.isEmpty else { return nil }
        if options.filters.isEmpty && !Files.exists(paths[0]) {
            throw SynthError.file(paths[0], "default filter model not found (set SYNTH_MODELS_DIR, pass --filter M, or --no-filter)")
        }
        let classifiers = try loadClassifiers(paths, role: "filter", source: source, models: &models)
        return try ConfidenceFilter(classifiers: classifiers, names: paths, threshold: Float(threshold))
    }

    /// Classifiers at `paths` for `role` ("filter" or "label"), each checked against the source's
    /// classes and image shape and appended to `models` with its hash. A filter must not be the
    /// classifier the source inverts (it would judge its own images); a label model may be (the
    /// teacher's probabilities are a soft label a user may want).
    private static func loadClassifiers(_ paths: [String], role: String, source: SampleSource,
                                        models: inout [ModelRecord]) throws -> [Classifier] {
        var classifiers: [Classifier] = []
        for path in paths {
            let c = try ModelFile.loadClassifier(path)
            guard c.card.classes == source.classNames.count else {
                throw SynthError.file(path, "has \(c.card.classes) classes, the source has \(source.classNames.count)")
            }
            guard c.card.inputShape == source.imageShape else {
                throw SynthError.file(path, "expects \(c.card.inputShape) images, the source makes \(source.imageShape)")
            }
            let digest = try FileDigest.read(path).digest
            let sha = digest.sha256
            if role == "filter" && models.contains(where: { $0.role == "classifier" && $0.sha256 == sha }) {
                throw SynthError.file(path, "is the classifier the source inverts; the filter must be another model (see --filter)")
            }
            classifiers.append(c)
            models.append(ModelRecord(role: role, path: BuildRecord.modelName(path), sha256: sha, bytes: digest.size))
        }
        return classifiers
    }

    /// --reject-near-copies: the real images indexed (with the first filter model's features when
    /// the rule compares them) and the rule; nil without it.
    private static func nearCopyCheck(_ options: BuildOptions, imageShape shape: [Int],
                                      filter: ConfidenceFilter?) throws -> (index: NearCopyIndex, rule: NearCopyRule)? {
        guard options.rejectNearCopies else {
            guard options.nearCopyCosine == nil else { throw SynthError("--near-copy-cosine needs --reject-near-copies") }
            return nil
        }
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
        return (try NearCopyIndex(real: real, featureModel: featureModel), rule)
    }
}
