import Support
/// nn.Dropout: inverted dropout while training, the identity in evaluation. Owns its random
/// stream so that a seeded model drops the same elements on every run.
public final class Dropout: Layer {
    public let p: Float
    var rng: RNG

    public init(_ p: Float = 0.5, seed: UInt64 = 0) {
        precondition(p >= 0 && p <= 1, "Dropout: probability \(p) outside [0, 1]")
        self.p = p
        self.rng = RNG(seed: seed)
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        dropout(x, p: p, training: isTraining, rng: &rng)
    }
}
