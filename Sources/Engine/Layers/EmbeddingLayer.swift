import Support
/// nn.Embedding: a [count, dim] table ("weight") initialised N(0, 1) as in PyTorch.
public final class Embedding: Layer {
    public let weight: Tensor

    public init(_ count: Int, _ dim: Int, rng: inout RNG) {
        weight = Tensor(zeros: [count, dim], requiresGrad: true)
        rng.fillNormal(weight.ptr, count: weight.count)
    }

    public override var ownState: [StateEntry] { [StateEntry("weight", weight)] }

    /// The rows for `indices`, [indices.count, dim].
    public func callAsFunction(_ indices: [Int]) -> Tensor { embedding(weight, indices) }
}
