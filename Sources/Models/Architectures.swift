import Support

/// Classifier architectures by name, as `--arch` and checkpoint metadata spell them.
public enum Architectures {
    public static let classifiers = ["ref-cnn", "resnet-s"]

    /// A freshly initialised classifier; `card.arch` picks the architecture.
    public static func classifier(_ card: ModelCard, seed: UInt64) throws -> Classifier {
        var rng = RNG(seed: seed)
        switch card.arch {
        case "ref-cnn":
            guard card.height % 4 == 0, card.width % 4 == 0 else {
                throw SynthError("ref-cnn needs an input side divisible by 4, got \(card.height)x\(card.width)")
            }
            return RefCNN(card: card, rng: &rng)
        case "resnet-s":
            return ResNetS(card: card, rng: &rng)
        default:
            throw SynthError("unknown architecture '\(card.arch)' (known: \(classifiers.joined(separator: ", ")))")
        }
    }
}
