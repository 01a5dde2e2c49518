import Support
/// One named tensor of a layer's state, as it appears in a PyTorch `state_dict`.
public struct StateEntry {
    public let name: String
    public let tensor: Tensor
    /// Trained by optimisers (weights, biases) rather than updated by the layer (running stats).
    public let isParameter: Bool
    /// Stored as int64 in PyTorch (BatchNorm's num_batches_tracked); kept as Float here.
    public let isInteger: Bool

    public init(_ name: String, _ tensor: Tensor, isParameter: Bool = true, isInteger: Bool = false) {
        self.name = name
        self.tensor = tensor
        self.isParameter = isParameter
        self.isInteger = isInteger
    }
}

/// Base of every network piece: owns tensors and child layers, knows whether it is training.
///
/// Mirrors torch.nn.Module closely enough that `stateDict()` names match PyTorch's for the same
/// architecture, which is what lets checkpoints move between the two.
open class Layer {
    public private(set) var isTraining = true

    public init() {}

    /// Child layers in registration order, with the attribute name PyTorch would use.
    open var children: [(String, Layer)] { [] }

    /// This layer's own tensors (not its children's).
    open var ownState: [StateEntry] { [] }

    /// Single-input layers override this; multi-input layers expose their own methods.
    open func callAsFunction(_ x: Tensor) -> Tensor {
        preconditionFailure("\(type(of: self)) does not take a single input")
    }

    /// Every tensor of this layer and its descendants, with dotted names, in PyTorch order
    /// (own tensors first, then children depth first).
    public func stateDict(prefix: String = "") -> [StateEntry] {
        var out = ownState.map { StateEntry(prefix + $0.name, $0.tensor, isParameter: $0.isParameter, isInteger: $0.isInteger) }
        for (name, child) in children {
            out += child.stateDict(prefix: prefix + name + ".")
        }
        return out
    }

    /// Trainable tensors, in state-dict order.
    public var parameters: [Tensor] { stateDict().filter(\.isParameter).map(\.tensor) }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Switches batch norm and dropout between training and evaluation behaviour.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, child) in children { child.train(on) }
    }

    public func eval() { train(false) }

    /// Freezes (or unfreezes) every parameter, so backward passes skip their gradients.
    public func freeze(_ frozen: Bool = true) {
        for p in parameters { p.requiresGrad = !frozen; p.zeroGrad() }
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Layers applied one after another; children are named "0", "1", ... like nn.Sequential.
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }
    public convenience init(_ layers: Layer...) { self.init(layers) }
    public override var children: [(String, Layer)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    public override func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}

/// A stateless op as a layer, for use inside `Sequential`.
public final class Lambda: Layer {
    let body: (Tensor) -> Tensor
    public init(_ body: @escaping (Tensor) -> Tensor) { self.body = body }
    public override func callAsFunction(_ x: Tensor) -> Tensor { body(x) }
}

/// PyTorch's default initialisation for linear and conv layers: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
func uniformInit(_ t: Tensor, fanIn: Int, rng: inout RNG) {
    let bound = 1 / Float(fanIn).squareRoot()
    rng.fillUniform(t.ptr, count: t.count, low: -bound, high: bound)
}

/// A linear or conv layer's weight and optional bias, drawn in PyTorch's order (weight, then bias)
/// from one generator, so a seed gives the same numbers whichever layer asks.
func uniformWeightAndBias(weight shape: [Int], bias: Int?, fanIn: Int, rng: inout RNG) -> (weight: Tensor, bias: Tensor?) {
    let weight = Tensor(zeros: shape, requiresGrad: true)
    uniformInit(weight, fanIn: fanIn, rng: &rng)
    guard let count = bias else { return (weight, nil) }
    let b = Tensor(zeros: [count], requiresGrad: true)
    uniformInit(b, fanIn: fanIn, rng: &rng)
    return (weight, b)
}

/// The state entries of a weight and an optional bias, under PyTorch's names.
func weightAndBiasState(_ weight: Tensor, _ bias: Tensor?) -> [StateEntry] {
    [StateEntry("weight", weight)] + (bias.map { [StateEntry("bias", $0)] } ?? [])
}
