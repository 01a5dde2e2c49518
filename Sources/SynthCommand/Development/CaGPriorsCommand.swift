import ArgumentParser
import Datasets
import Engine
import Foundation
import Support
import Synth

/// A development probe of CaG's priors, which measures no dataset: the loss terms real images of
/// each class score (what the priors aim at), or the terms along one batch's optimisation. A CaG
/// setting is judged by CAS of a dataset the build pipeline wrote (`synth build`, then `synth cas`;
/// scripts/cag-ablations), never here.
struct CaGPriorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cag-priors",
        abstract: "Print CaG's loss terms on real images of each class, or along one batch's optimisation.",
        discussion: """
        CaG settings, --source-option KEY=VALUE (repeatable), as synth build takes them:
        \(CaGConfig.settingsHelp())

        Examples:
          synth cag-priors --real fashion-mnist:test
          synth cag-priors --trace --class 6 --source-option lambda_div=0
        """,
        shouldDisplay: false
    )

    @Option(help: "Classifier to invert (default: models/teacher-ref-cnn.safetensors).") var classifier: String?
    @Option(help: "Reconstruction module (default: models/cag-ref-recon.safetensors).") var reconstructor: String?
    @Option(help: "Directory of the default models.") var models = "models"
    @OptionGroup var sourceOptions: SourceOptions
    @Option(help: "Score the first batch of real images of each class of this data spec.") var real: String?
    @Flag(help: "Optimise one batch of --class and print its loss terms every 10 steps.") var trace = false
    @Option(parsing: .unconditional, help: "The class of --trace.") var `class` = 0
    @Option(parsing: .unconditional, help: "Seed of --trace.") var seed: UInt64 = 0

    func validate() throws {
        guard (real != nil) != trace else { throw ValidationError("give one of --real SPEC and --trace") }
    }

    func run() throws {
        let source = try CaGSource.make(classifier: classifier, reconstructor: reconstructor, options: try sourceOptions.values(), modelsDirectory: models)
        if let real { return try scoreReal(spec: real, source: source) }
        try source.checkClasses(`class` + 1)
        source.onStep = { step, p in
            guard step % 10 == 0 || step == 1 else { return }
            print(String(format: "step %3d  total %.4f  ce %.4f  div %.4f  dist %.4f  bn %.4f  rec %.4f  target %.4f  tv %.4f", step, p.total,
                         p.classification, p.diversity, p.distribution, p.batchNorm, p.reconstruction, p.target, p.totalVariation))
        }
        _ = try source.generate(label: `class`, count: source.sampler.config.batch, seed: seed)
    }

    /// The objective on real images (held as the optimised parameter, clamped, at full resolution).
    func scoreReal(spec: String, source: CaGSource) throws {
        let data = try Dataset.load(spec: spec)
        var c = source.sampler.config
        c.parameterization = .clamp
        c.progressive = false
        c.resolutions = []
        let probe = try CaGSampler(classifiers: source.sampler.classifiers, reconstructor: source.sampler.reconstructor, config: c)
        var rng = RNG(seed: 1)
        let per = data.imageSize
        for cls in 0..<data.classCount {
            let idx = Array(data.labels.indices.filter { data.labels[$0] == cls }.prefix(c.batch))
            guard !idx.isEmpty else { continue }
            let x = Tensor(uninitialized: [idx.count, data.channels, data.height, data.width])
            for (r, i) in idx.enumerated() { for j in 0..<per { x.ptr[r * per + j] = Float(data.pixels[i * per + j]) / 255 } }
            let mask = probe.reconstructor.map { g in
                PatchMask.random(count: idx.count, height: data.height, width: data.width, patch: g.patch, ratio: g.maskRatio, rng: &rng)
            }
            let (_, p) = Autodiff.withoutGrad { probe.objective(parameter: x, labels: Array(repeating: cls, count: idx.count), mask: mask) }
            print(String(format: "real class %d  total %.4f  ce %.4f  div %.4f  dist %.4f  bn %.4f  rec %.4f  tv %.4f", cls, p.total,
                         p.classification, p.diversity, p.distribution, p.batchNorm, p.reconstruction, p.totalVariation))
        }
    }
}
