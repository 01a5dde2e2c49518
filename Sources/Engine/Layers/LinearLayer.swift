/// nn.Linear: weight [out, in], bias [out].
public final class Linear: Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RNG) {
        weight = Tensor(zeros: [outFeatures, inFeatures], requiresGrad: true)
        uniformInit(weight, fanIn: inFeatures, rng: &rng)
        if bias {
            let b = Tensor(zeros: [outFeatures], requiresGrad: true)
            uniformInit(b, fanIn: inFeatures, rng: &rng)
            self.bias = b
        } else {
            self.bias = nil
        }
    }

    public override var ownState: [StateEntry] {
        [StateEntry("weight", weight)] + (bias.map { [StateEntry("bias", $0)] } ?? [])
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight, bias) }
}
