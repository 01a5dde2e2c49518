import Foundation

/// Classifier checkpoints: safetensors with PyTorch state-dict names and a `ModelCard` in the
/// metadata, so one file rebuilds the model (and a PyTorch export of the same architecture loads).
public enum ModelFile {
    public static func save(_ model: Classifier, to path: String, info: [String: String] = [:]) throws {
        var card = model.card
        card.info.merge(info) { _, new in new }
        try CheckpointFile.save(model, card: card, to: path)
    }

    public static func loadClassifier(_ path: String) throws -> Classifier {
        try CheckpointFile.load(path, kind: "classifier") { try Architectures.classifier($0, seed: 0) }.0
    }
}
