import Engine
import Support
import Foundation
import Models

/// CaG as a `SampleSource`: frozen classifier(s), the reconstruction module and their statistics,
/// loaded from files. A call optimises its candidates jointly in batches of `config.batch`,
/// and runs those batches side by side, one per core: a batch's ops are too small to keep two cores
/// busy (1,280 default candidates on 2 cores, timed one after the other: 141 s with one batch at a
/// time over both cores, 106 s side by side).
public final class CaGSource: SampleSource {
    /// One sampler per lane, each over its own copy of the models: the batch-norm prior observes
    /// layer inputs through the layers, so two lanes must never share a layer.
    public let lanes: [CaGSampler]
    public let modelFiles: [String]
    public let classNames: [String]
    private var roles: [String: String]
    /// Classifiers the batch-norm prior cannot see into (no batch-norm layers: an eval-mode
    /// torch.onnx.export folds them into the convolutions); recorded in the settings.
    public let withoutBatchNorms: [String]
    /// Called after every optimisation step (step, loss terms) of the first batch of each call, for tracing.
    public var onStep: ((Int, CaGLossParts) -> Void)?

    public var sampler: CaGSampler { lanes[0] }

    /// `classifiers`: one or more classifier checkpoints (an ensemble sums their losses);
    /// statistics are read from each one's `C.stats.safetensors` when a prior needs them.
    /// `lanes`: batches optimised at once (default: one per core).
    public init(classifiers paths: [String], reconstructor reconstructorPath: String?, config: CaGConfig,
                lanes laneCount: Int = Parallel.cores) throws {
        guard !paths.isEmpty else { throw SynthError("CaG needs at least one classifier") }
        let needStats = config.lambdaDist > 0 || config.lambdaTarget > 0 || (config.lambdaBn > 0 && config.bnStatistics == .perClass)
        if config.reconstructor && reconstructorPath == nil {
            throw SynthError("CaG with the reconstruction module needs --reconstructor R (or --source-option reconstructor=false)")
        }
        // Files are read, hashed and checked once; only the layers are loaded once per lane
        // (statistics are plain values the lanes can share).
        let firstModels = try paths.map { try ModelFile.loadClassifier($0) }
        withoutBatchNorms = config.lambdaBn > 0 ? zip(paths, firstModels).filter { batchNormLayers(of: $0.1).isEmpty }.map(\.0) : []
        for path in withoutBatchNorms {
            FileHandle.standardError.write(Data("synth: note: \(path) has no batch-norm layers (an eval-mode torch.onnx.export folds them into the convolutions): the batch-norm prior is off for it; export with BatchNormalization nodes kept to use it (README, \"Use your own model\")\n".utf8))
        }
        var files: [String] = []
        var roles: [String: String] = [:]
        var statistics: [FeatureStatistics?] = []
        for (path, model) in zip(paths, firstModels) {
            files.append(path); roles[path] = "classifier"
            guard needStats else { statistics.append(nil); continue }
            let statsPath = FeatureStatistics.sidecarPath(for: path)
            guard FileManager.default.fileExists(atPath: statsPath) else {
                throw SynthError.file(statsPath, "missing: the distribution and per-class batch-norm priors need the classifier's statistics (synth stats --model \(path) --data SPEC)")
            }
            let stats = try FeatureStatistics.load(statsPath, classifierSHA256: try FileDigest.sha256(ofFile: path))
            guard stats.classes == model.card.classes, stats.dimension == model.featureDimension else {
                throw SynthError.file(statsPath, "has \(stats.classes) classes x \(stats.dimension) features, the classifier \(model.card.classes) x \(model.featureDimension)")
            }
            statistics.append(stats)
            files.append(statsPath); roles[statsPath] = "statistics"
        }
        let reconstructorFile = config.reconstructor ? reconstructorPath : nil
        var firstReconstructor: Reconstructor?
        if let r = reconstructorFile {
            let recon = try ReconstructorFile.load(r)
            guard recon.card.inputShape == firstModels[0].card.inputShape else {
                throw SynthError.file(r, "reconstructs \(recon.card.inputShape) images, the classifier takes \(firstModels[0].card.inputShape)")
            }
            firstReconstructor = recon
            files.append(r); roles[r] = "reconstructor"
        }
        var samplers: [CaGSampler] = []
        for lane in 0..<max(1, laneCount) {
            let models = lane == 0 ? firstModels : try paths.map { try ModelFile.loadClassifier($0) }
            let recon = lane == 0 ? firstReconstructor : try reconstructorFile.map { try ReconstructorFile.load($0) }
            do {
                samplers.append(try CaGSampler(classifiers: zip(models, statistics).map { CaGClassifier($0, statistics: $1) },
                                               reconstructor: recon, config: config))
            } catch let e as SynthError {
                throw SynthError.file(paths[0], e.message)
            }
        }
        lanes = samplers
        modelFiles = files
        self.roles = roles
        classNames = firstModels[0].card.classNames
    }

    /// `samplers`: one per lane, with the same settings over separate copies of the same models.
    public init(samplers: [CaGSampler], modelFiles: [String] = []) {
        precondition(!samplers.isEmpty, "CaGSource needs a sampler")
        lanes = samplers
        self.modelFiles = modelFiles
        roles = [:]
        withoutBatchNorms = []
        classNames = samplers[0].classifiers[0].model.card.classNames
    }

    public var sourceName: String { "cag" }
    public func role(ofModel path: String) -> String { roles[path] ?? "source" }
    public var imageShape: [Int] { sampler.imageShape }
    /// The smallest round a filtered build asks for after its first. A CaG candidate costs hundreds
    /// of steps, so a round that tops up a few missing samples should stay near their number (a
    /// floor of two full batches, 128, made a unit of 100 at a 90% pass rate cost 256 candidates
    /// instead of about 115); 32 still gives each core a batch of 16.
    public var preferredBatch: Int { 32 }
    public var settings: [String: String] {
        var extra = ["ensemble": String(sampler.classifiers.count)]
        if !withoutBatchNorms.isEmpty {
            extra["batch_norm_prior"] = "off for \(withoutBatchNorms.joined(separator: ", ")): no batch-norm layers"
        }
        return sampler.config.summary.merging(extra) { a, _ in a }
    }

    /// Refuses a build that asks for more classes than the classifier knows.
    public func checkClasses(_ requested: Int) throws {
        guard requested <= sampler.classes else {
            throw SynthError.file(modelFiles.first ?? "classifier", "the classifier knows \(sampler.classes) classes, \(requested) were requested")
        }
    }

    public func generate(label: Int, count: Int, seed: UInt64) throws -> Tensor {
        guard label >= 0 && label < sampler.classes else {
            throw SynthError.file(modelFiles.first ?? "classifier", "class \(label) outside the classifier's \(sampler.classes) classes")
        }
        guard count > 0 else { return Tensor(zeros: [0] + imageShape) }
        let per = imageShape.reduce(1, *)
        let out = Tensor(uninitialized: [count] + imageShape)
        // Batches of equal size (100 -> 50 + 50, not 64 + 36), so the lanes finish together, and at
        // least two, so a small round keeps both cores busy too; the split depends only on the
        // count, so the samples do not depend on the number of lanes.
        let batches = max((count + sampler.config.batch - 1) / sampler.config.batch, min(count, 2))
        func range(_ b: Int) -> Range<Int> { (b * count / batches)..<((b + 1) * count / batches) }
        let lanes = self.lanes, onStep = self.onStep, destination = out.ptr
        Parallel.forEach(min(lanes.count, batches)) { lane in
            for b in stride(from: lane, to: batches, by: lanes.count) {
                let r = range(b)
                let images = lanes[lane].sample(labels: Array(repeating: label, count: r.count),
                                                seed: RNG.derive(seed, UInt64(label), UInt64(b)), onStep: b == 0 ? onStep : nil)
                (destination + r.lowerBound * per).update(from: images.ptr, count: r.count * per)
            }
        }
        return out
    }
}
