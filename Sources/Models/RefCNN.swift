import Engine
import Support

/// `ref-cnn` exactly as DESIGN.md and ../shared/reference/fmnist.py:
/// conv3x3(32)-BN-ReLU-maxpool2, conv3x3(64)-BN-ReLU-maxpool2, linear(128)-ReLU, linear(classes).
/// Attribute names (c1, b1, c2, b2, f1, f2) are the reference's, so state dicts interchange.
public final class RefCNN: Classifier {
    let c1: Conv2d, b1: BatchNorm, c2: Conv2d, b2: BatchNorm, f1: Linear, f2: Linear

    public init(card: ModelCard, rng: inout RNG) {
        let flat = 64 * (card.height / 4) * (card.width / 4)
        c1 = Conv2d(card.channels, 32, kernel: 3, padding: 1, rng: &rng)
        b1 = BatchNorm(32)
        c2 = Conv2d(32, 64, kernel: 3, padding: 1, rng: &rng)
        b2 = BatchNorm(64)
        f1 = Linear(flat, 128, rng: &rng)
        f2 = Linear(128, card.classes, rng: &rng)
        super.init(card: card)
    }

    public override var children: [(String, Layer)] {
        [("c1", c1), ("b1", b1), ("c2", c2), ("b2", b2), ("f1", f1), ("f2", f2)]
    }

    /// Pools before the ReLU: max-pooling and ReLU commute exactly (values, and gradients, ties
    /// included), and the ReLU then touches a quarter of the values.
    public override func features(_ x: Tensor) -> Tensor {
        var h = relu(maxPool2d(b1(c1(x)), kernel: 2))
        h = relu(maxPool2d(b2(c2(h)), kernel: 2))
        return relu(f1(h.flattened()))
    }

    public override func head(_ h: Tensor) -> Tensor { f2(h) }
    public override var featureDimension: Int { 128 }
}
