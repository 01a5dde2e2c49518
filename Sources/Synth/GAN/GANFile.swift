import Models
import Support

/// Generator checkpoints: the (EMA) generator's state under PyTorch names and its `ModelCard`
/// (kind "generator", arch "resgan-g"), so one file rebuilds a sampler.
public enum GANFile {
    public static func save(_ generator: ResGANGenerator, to path: String, info: [String: String] = [:]) throws {
        try CheckpointFile.save(generator, card: generator.config.generatorCard(info: info), to: path)
    }

    /// A frozen generator in evaluation mode, or a one-line error naming `path`.
    public static func loadGenerator(_ path: String) throws -> ResGANGenerator {
        let (g, _) = try CheckpointFile.load(path, kind: "generator", hint: "train one with synth train-gan") { (card: ModelCard) -> ResGANGenerator in
            var rng = RNG(seed: 0)
            return ResGANGenerator(try GANConfig(card: card, file: path), rng: &rng)
        }
        g.freeze()
        return g
    }
}
