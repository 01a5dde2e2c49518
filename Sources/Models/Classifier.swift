import Engine

/// An image classifier split where CaG and the filters need it: `features` gives the penultimate
/// representation h (the distribution and diversity losses work on it), `head` maps h to logits.
open class Classifier: Layer {
    public let card: ModelCard

    public init(card: ModelCard) { self.card = card }

    /// [N, C, H, W] normalised images to [N, D] penultimate features.
    open func features(_ x: Tensor) -> Tensor { preconditionFailure("subclass") }
    /// [N, D] features to [N, classes] logits.
    open func head(_ h: Tensor) -> Tensor { preconditionFailure("subclass") }

    public override func callAsFunction(_ x: Tensor) -> Tensor { head(features(x)) }

    public var featureDimension: Int { preconditionFailure("subclass") }
}
