import Engine
import Support
import Foundation

/// Samples of one or several class-conditional generators (seed 003 §III-C: several GANs trained
/// from different seeds cover more of the data distribution than one).
///
/// Sample i of a call draws its generator and its latent z ~ N(0, I) from a stream derived from
/// (seed, i) alone, so a call's images do not depend on how the pipeline batches its requests
/// beyond (label, count, seed), and samples spread evenly over the generators in expectation.
/// Generators run in evaluation mode (standing batch-norm statistics): each image depends only on
/// its own z and label (and, with `GANSampling.classMix`, its second class and weight, drawn from
/// the same stream after z).
public final class GANSource: SampleSource {
    public let generators: [ResGANGenerator]
    public let modelFiles: [String]
    public private(set) var sampling: GANSampling

    /// Loads every generator; they must all be conditional and agree on classes and image shape.
    public convenience init(generatorPaths: [String], sampling: GANSampling = GANSampling()) throws {
        guard !generatorPaths.isEmpty else { throw SynthError("--source gan needs at least one --generator") }
        let gs = try generatorPaths.map { try GANFile.loadGenerator($0) }
        try self.init(generators: gs, files: generatorPaths, sampling: sampling)
    }

    /// The generators `synth build --source gan` uses when none are given: the concat GANs
    /// scripts/make-gan-models ships (gan-concat-s1 ... s4; seed 003's multiple-GAN sampling),
    /// those of them present. With none present the first is named, so the error says what to make.
    public static func defaultGeneratorFiles(modelsDirectory: String) -> [String] {
        let all = (1...4).map { (modelsDirectory as NSString).appendingPathComponent("gan-concat-s\($0).safetensors") }
        let present = all.filter { FileManager.default.fileExists(atPath: $0) }
        return present.isEmpty ? [all[0]] : present
    }

    /// `--generator` files as given, or the defaults from `modelsDirectory`.
    public convenience init(generatorPaths: [String], modelsDirectory: String, sampling: GANSampling = GANSampling()) throws {
        try self.init(generatorPaths: generatorPaths.isEmpty ? GANSource.defaultGeneratorFiles(modelsDirectory: modelsDirectory) : generatorPaths,
                      sampling: sampling)
    }

    public init(generators: [ResGANGenerator], files: [String], sampling: GANSampling = GANSampling()) throws {
        precondition(generators.count == files.count && !generators.isEmpty, "GANSource: one file name per generator")
        let first = generators[0].config
        for (g, file) in zip(generators, files) {
            guard g.config.conditional else {
                throw SynthError.file(file, "is an unconditional generator: use --source gan-latent with an --input-generator")
            }
            guard g.config.imageShape == first.imageShape else {
                throw SynthError.file(file, "makes \(g.config.imageShape) images but \(files[0]) makes \(first.imageShape)")
            }
            guard g.config.classNames == first.classNames else {
                throw SynthError.file(file, "has other classes than \(files[0])")
            }
        }
        self.generators = generators
        self.modelFiles = files
        self.sampling = sampling
    }

    public var sourceName: String { "gan" }
    public func role(ofModel path: String) -> String { "generator" }
    public var classNames: [String] { generators[0].config.classNames }
    public var imageShape: [Int] { generators[0].config.imageShape }
    public var preferredBatch: Int { 100 }
    public var settings: [String: String] {
        ["generators": String(generators.count),
         "blocks": generators.map(\.config.block.rawValue).joined(separator: ","),
         "z_dim": generators.map { String($0.config.zDim) }.joined(separator: ","),
         "generator_choice": "per sample, uniform, from (seed, index)"].merging(sampling.settings) { a, _ in a }
    }

    /// Blends keep to the build's classes; over all of them nothing is recorded (the old draw).
    public func drawOnly(classes: [Int]) {
        let pool = Array(Set(classes)).sorted()
        sampling.mixClasses = pool == Array(0..<classNames.count) ? nil : pool
    }

    public func generate(label: Int, count: Int, seed: UInt64) throws -> Tensor {
        guard label >= 0 && label < classNames.count else {
            throw SynthError("class \(label) outside the generators' \(classNames.count) classes")
        }
        var chosen = [[Int]](repeating: [], count: generators.count)
        var latents = [[Float]](repeating: [], count: generators.count)
        // Per generator, each chosen sample's second class and own weight (class_mix only).
        let partners = sampling.blendPartners(of: label, classCount: classNames.count)
        let mixing = sampling.classMix > 0 && !partners.isEmpty
        var others = [[Int]](repeating: [], count: generators.count)
        var weights = [[Float]](repeating: [], count: generators.count)
        for i in 0..<count {
            var rng = RNG(seed: RNG.derive(seed, UInt64(i)))
            let k = generators.count == 1 ? 0 : rng.int(below: generators.count)
            chosen[k].append(i)
            for _ in 0..<generators[k].config.zDim { latents[k].append(sampling.latentScale * rng.normal()) }
            guard mixing else { continue }
            if rng.uniform() < sampling.classMix {
                // Uniform over the other classes (of all K: draw from K-1 and skip the sample's own).
                others[k].append(partners[rng.int(below: partners.count)])
                weights[k].append(0.5 + 0.5 * rng.uniform())
            } else {
                others[k].append(label)
                weights[k].append(1)
            }
        }
        let out = Tensor(uninitialized: [count] + imageShape)
        let size = imageShape.reduce(1, *)
        // In chunks of at most `preferredBatch`: the pipeline asks for counts of every size, and
        // fixed-size passes keep the activation memory bounded and reused.
        for (k, g) in generators.enumerated() where !chosen[k].isEmpty {
            let zDim = g.config.zDim
            for start in stride(from: 0, to: chosen[k].count, by: preferredBatch) {
                let rows = chosen[k][start..<min(start + preferredBatch, chosen[k].count)]
                let z = Tensor(Array(latents[k][(start * zDim)..<((start + rows.count) * zDim)]), shape: [rows.count, zDim])
                let span = start..<(start + rows.count)
                let mix = mixing ? ClassMix(other: Array(others[k][span]), weight: Array(weights[k][span])) : nil
                let x = Autodiff.withoutGrad { g(z, labels: Array(repeating: label, count: rows.count), mix: mix) }
                for (r, i) in rows.enumerated() {
                    toUnitRange(x.ptr + r * size, into: out.ptr + i * size, count: size)
                }
            }
        }
        return out
    }
}

/// Generator output in [-1, 1] to pixels in [0, 1] (clamped: tanh stays inside, rounding may not).
func toUnitRange(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
    for j in 0..<count { dst[j] = min(max((src[j] + 1) * 0.5, 0), 1) }
}
