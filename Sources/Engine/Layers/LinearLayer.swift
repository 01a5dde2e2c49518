import Support
/// nn.Linear: weight [out, in], bias [out].
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RNG) {
        (weight, self.bias) = uniformWeightAndBias(weight: [outFeatures, inFeatures], bias: bias ? outFeatures : nil,
                                                   fanIn: inFeatures, rng: &rng)
    }

    public override var ownState: [StateEntry] { weightAndBiasState(weight, bias) }

    public override func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight, bias) }
}
