import Engine
import Models

/// Generator checkpoints: the (EMA) generator's state under PyTorch names and its `ModelCard`
/// (kind "generator", arch "resgan-g"), so one file rebuilds a sampler.
public enum GANFile {
    public static func save(_ generator: ResGANGenerator, to path: String, info: [String: String] = [:]) throws {
        try Safetensors.write(generator.stateEntries(), metadata: generator.config.generatorCard(info: info).metadata, to: path)
    }

    /// A generator in evaluation mode, or a one-line error naming `path`.
    public static func loadGenerator(_ path: String) throws -> ResGANGenerator {
        let file = try Safetensors.read(path)
        let card = try ModelCard(metadata: file.metadata, file: path)
        guard card.kind == "generator" else {
            throw SynthError.file(path, "holds a\(card.kind.first.map { "aeiou".contains($0) } == true ? "n" : "") \(card.kind), not a generator")
        }
        let config = try GANConfig(card: card, file: path)
        var rng = RNG(seed: 0)
        let g = ResGANGenerator(config, rng: &rng)
        try g.load(file.entries, file: path)
        g.eval()
        g.freeze()
        return g
    }
}
