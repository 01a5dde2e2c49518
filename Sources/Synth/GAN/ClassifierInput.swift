import Engine
import Models

/// Generator output in [-1, 1] as a classifier's normalised input: pixels p = (g + 1) / 2, then
/// (p - mean[c]) / std[c] from the classifier's card. Differentiable (the input generator trains
/// through it).
public func classifierInput(_ g: Tensor, card: ModelCard) -> Tensor {
    let c = g.shape[1]
    precondition(card.mean.count == c && card.std.count == c, "classifierInput: card for \(card.channels) channels, images have \(c)")
    if c == 1 {
        return g * (0.5 / card.std[0]) + (0.5 - card.mean[0]) / card.std[0]
    }
    let scale = Tensor((0..<c).map { 0.5 / card.std[$0] }, shape: [1, c, 1, 1])
    let shift = Tensor((0..<c).map { (0.5 - card.mean[$0]) / card.std[$0] }, shape: [1, c, 1, 1])
    return g * scale + shift
}

/// Pixels in [0, 1] (a source's output) as a classifier's normalised input.
public func classifierInput(unit x: Tensor, card: ModelCard) -> Tensor {
    classifierInput(x * 2 - 1, card: card)
}
