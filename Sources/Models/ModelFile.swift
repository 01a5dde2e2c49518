import Engine
import Foundation

/// Classifier checkpoints: safetensors with PyTorch state-dict names and a `ModelCard` in the
/// metadata, so one file rebuilds the model (and a PyTorch export of the same architecture loads).
public enum ModelFile {
    public static func save(_ model: Classifier, to path: String, info: [String: String] = [:]) throws {
        var card = model.card
        card.info.merge(info) { _, new in new }
        try Safetensors.write(model.stateEntries(), metadata: card.metadata, to: path)
    }

    public static func loadClassifier(_ path: String) throws -> Classifier {
        let file = try Safetensors.read(path)
        let card = try ModelCard(metadata: file.metadata, file: path)
        guard card.kind == "classifier" else {
            throw SynthError.file(path, "holds a \(card.kind), not a classifier")
        }
        let model: Classifier
        do {
            model = try Architectures.classifier(card, seed: 0)
        } catch let e as SynthError {
            throw SynthError.file(path, e.message)
        }
        try model.load(file.entries, file: path)
        model.eval()
        return model
    }
}
