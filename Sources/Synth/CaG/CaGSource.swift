import Engine
import Foundation
import Models

/// CaG as a `SampleSource`: frozen classifier(s), the reconstruction module and their statistics,
/// loaded from files. A call optimises its candidates jointly in batches of `config.batchSize`.
public final class CaGSource: SampleSource {
    public let sampler: CaGSampler
    public let modelFiles: [String]
    public let classNames: [String]
    private var roles: [String: String]
    /// Called after every optimisation step (step, loss terms), for tracing.
    public var onStep: ((Int, CaGLossParts) -> Void)?

    /// `classifiers`: one or more classifier checkpoints (an ensemble sums their losses);
    /// statistics are read from each one's `C.stats.safetensors` when a prior needs them.
    public init(classifiers paths: [String], reconstructor reconstructorPath: String?, config: CaGConfig) throws {
        guard !paths.isEmpty else { throw SynthError("CaG needs at least one classifier") }
        let needStats = config.lambdaDist > 0 || config.lambdaTarget > 0 || (config.lambdaBN > 0 && config.bnStatistics == .perClass)
        var files: [String] = []
        var members: [CaGClassifier] = []
        var roles: [String: String] = [:]
        for path in paths {
            let model = try ModelFile.loadClassifier(path)
            files.append(path)
            roles[path] = "classifier"
            var stats: FeatureStatistics?
            if needStats {
                let statsPath = FeatureStatistics.sidecarPath(for: path)
                guard FileManager.default.fileExists(atPath: statsPath) else {
                    throw SynthError.file(statsPath, "missing: the distribution and per-class batch-norm priors need the classifier's statistics (synth stats --model \(path) --data SPEC)")
                }
                stats = try FeatureStatistics.load(statsPath, classifierSHA256: try sha256Hex(ofFile: path))
                guard stats!.classes == model.card.classes, stats!.dimension == model.featureDimension else {
                    throw SynthError.file(statsPath, "has \(stats!.classes) classes x \(stats!.dimension) features, the classifier \(model.card.classes) x \(model.featureDimension)")
                }
                files.append(statsPath)
                roles[statsPath] = "statistics"
            }
            members.append(CaGClassifier(model, statistics: stats))
        }
        var recon: Reconstructor?
        if config.useReconstructor {
            guard let r = reconstructorPath else { throw SynthError("CaG with the reconstruction module needs --reconstructor R (or --no-reconstructor)") }
            recon = try ReconstructorFile.load(r)
            guard recon!.card.inputShape == members[0].model.card.inputShape else {
                throw SynthError.file(r, "reconstructs \(recon!.card.inputShape) images, the classifier takes \(members[0].model.card.inputShape)")
            }
            files.append(r)
            roles[r] = "reconstructor"
        }
        do {
            sampler = try CaGSampler(classifiers: members, reconstructor: recon, config: config)
        } catch let e as SynthError {
            throw SynthError.file(paths[0], e.message)
        }
        modelFiles = files
        self.roles = roles
        classNames = members[0].model.card.classNames
    }

    public init(sampler: CaGSampler, modelFiles: [String] = []) {
        self.sampler = sampler
        self.modelFiles = modelFiles
        roles = [:]
        classNames = sampler.classifiers[0].model.card.classNames
    }

    public var sourceName: String { "cag" }
    public func role(ofModel path: String) -> String { roles[path] ?? "source" }
    public var imageShape: [Int] { sampler.imageShape }
    public var preferredBatch: Int { sampler.config.batchSize }
    public var settings: [String: String] { sampler.config.summary.merging(["ensemble": String(sampler.classifiers.count)]) { a, _ in a } }

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
        var offset = 0, chunk: UInt64 = 0
        while offset < count {
            let n = min(sampler.config.batchSize, count - offset)
            let images = sampler.sample(labels: Array(repeating: label, count: n),
                                        seed: RNG.derive(seed, UInt64(label), chunk), onStep: onStep)
            (out.ptr + offset * per).update(from: images.ptr, count: n * per)
            offset += n; chunk += 1
        }
        return out
    }
}
