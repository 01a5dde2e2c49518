import Engine
import Support
import Foundation

/// Seed 002's source: a frozen unconditional generator steered by an input generator that maps a
/// class to the mean and spread of the generator's latent. Sample i of a call uses the noise
/// eps_i ~ N(0, I) of a stream derived from (seed, i), z_i = mu(label) + sigma(label) * eps_i.
public final class LatentGANSource: SampleSource {
    public let generator: ResGANGenerator
    public let inputGenerator: InputGenerator
    public let modelFiles: [String]

    public convenience init(generatorPath: String, inputGeneratorPath: String) throws {
        let g = try GANFile.loadGenerator(generatorPath)
        let (ig, shape) = try InputGenerator.load(inputGeneratorPath)
        guard !g.config.conditional else {
            throw SynthError.file(generatorPath, "is a conditional generator: use --source gan (gan-latent steers an unconditional one)")
        }
        guard ig.zDim == g.config.zDim else {
            throw SynthError.file(inputGeneratorPath, "makes \(ig.zDim)-dimensional latents, \(generatorPath) takes \(g.config.zDim)")
        }
        guard shape == g.config.imageShape else {
            throw SynthError.file(inputGeneratorPath, "was trained for \(shape) images, \(generatorPath) makes \(g.config.imageShape)")
        }
        self.init(generator: g, inputGenerator: ig, files: [generatorPath, inputGeneratorPath])
    }

    /// `--generator` (one) and `--input-generator` as given, or the defaults from `modelsDirectory`
    /// (gan-uncond-s1.safetensors and gan-uncond-s1-input.safetensors, from scripts/make-gan-models).
    public convenience init(generatorPaths: [String], inputGeneratorPath: String?, modelsDirectory: String) throws {
        guard generatorPaths.count <= 1 else {
            throw SynthError("--source gan-latent takes one --generator (an unconditional GAN), got \(generatorPaths.count)")
        }
        let dir = modelsDirectory as NSString
        try self.init(generatorPath: generatorPaths.first ?? dir.appendingPathComponent("gan-uncond-s1.safetensors"),
                      inputGeneratorPath: inputGeneratorPath ?? dir.appendingPathComponent("gan-uncond-s1-input.safetensors"))
    }

    public init(generator: ResGANGenerator, inputGenerator: InputGenerator, files: [String]) {
        precondition(generator.config.zDim == inputGenerator.zDim, "LatentGANSource: latent sizes differ")
        self.generator = generator
        self.inputGenerator = inputGenerator
        self.modelFiles = files
    }

    public func role(ofModel path: String) -> String { path == modelFiles.last ? "input-generator" : "generator" }
    public var sourceName: String { "gan-latent" }
    public var classNames: [String] { inputGenerator.classNames }
    public var imageShape: [Int] { generator.config.imageShape }
    public var preferredBatch: Int { 100 }
    public var settings: [String: String] {
        ["z_dim": String(generator.config.zDim), "block": generator.config.block.rawValue,
         "input_generator_hidden": String(inputGenerator.hidden)]
    }

    public func generate(label: Int, count: Int, seed: UInt64) throws -> Tensor {
        guard label >= 0 && label < classNames.count else {
            throw SynthError("class \(label) outside the input generator's \(classNames.count) classes")
        }
        if count == 0 { return Tensor(zeros: [0] + imageShape) }
        let z = generator.config.zDim
        let eps = Tensor(uninitialized: [count, z])
        for i in 0..<count {
            var rng = RNG(seed: RNG.derive(seed, UInt64(i)))
            rng.fillNormal(eps.ptr + i * z, count: z)
        }
        // In chunks of at most `preferredBatch` (bounded, reused activation memory).
        let out = Tensor(uninitialized: [count] + imageShape)
        let size = imageShape.reduce(1, *)
        for start in stride(from: 0, to: count, by: preferredBatch) {
            let n = min(preferredBatch, count - start)
            let chunk = Tensor(Array(UnsafeBufferPointer(start: eps.ptr + start * z, count: n * z)), shape: [n, z])
            let labels = Array(repeating: label, count: n)
            let x = Autodiff.withoutGrad { generator(inputGenerator.latents(labels: labels, eps: chunk), labels: labels) }
            toUnitRange(x.ptr, into: out.ptr + start * size, count: n * size)
        }
        return out
    }
}
