import Foundation

/// Classifier checkpoints: safetensors with PyTorch state-dict names and a `ModelCard` in the
/// metadata, so one file rebuilds the model (and a PyTorch export of the same architecture loads);
/// or, wherever a classifier is taken, an .onnx graph from any exporter (`ONNXClassifier`).
public enum ModelFile {
    public static func save(_ model: Classifier, to path: String, info: [String: String] = [:]) throws {
        var card = model.card
        card.info.merge(info) { _, new in new }
        try CheckpointFile.save(model, card: card, to: path)
    }

    public static func loadClassifier(_ path: String) throws -> Classifier {
        if isONNX(path) { return try ONNXClassifier(path: path) }
        return try CheckpointFile.load(path, kind: "classifier") { try Architectures.classifier($0, seed: 0) }.0
    }

    /// Whether `path` names an ONNX model (by its extension, as exporters write it).
    public static func isONNX(_ path: String) -> Bool { path.lowercased().hasSuffix(".onnx") }
}
