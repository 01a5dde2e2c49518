import Engine
import Support
import Foundation

/// Every model file synth writes: safetensors with the layer's state under PyTorch names and a
/// `ModelCard` in the metadata, so one file rebuilds its network. Classifiers, reconstructors,
/// generators and input generators differ only in the card's kind and how a card builds the layer.
public enum CheckpointFile {
    public static func save(_ layer: Layer, card: ModelCard, to path: String) throws {
        try Safetensors.write(layer.stateEntries(), metadata: card.metadata, to: path)
    }

    /// The layer `path` holds, in evaluation mode, or a one-line error naming `path`: the file is
    /// unreadable, holds another kind of model (`hint` says how to make the right one), or its
    /// tensors do not fit the network its card describes.
    public static func load<L: Layer>(_ path: String, kind: String, hint: String = "",
                                      build: (ModelCard) throws -> L) throws -> (L, ModelCard) {
        let file = try Safetensors.read(path)
        let card = try ModelCard(metadata: file.metadata, file: path)
        guard card.kind == kind else {
            throw SynthError.file(path, "holds \(withArticle(card.kind)), not \(withArticle(kind))\(hint.isEmpty ? "" : " (\(hint))")")
        }
        let layer: L
        do {
            layer = try build(card)
        } catch let e as SynthError {
            throw SynthError.file(path, e.message)
        }
        try layer.load(file.entries, file: path)
        layer.eval()
        return (layer, card)
    }

    /// "a classifier", "an input-generator".
    static func withArticle(_ noun: String) -> String {
        (noun.first.map { "aeiou".contains($0) } == true ? "an " : "a ") + noun
    }
}
