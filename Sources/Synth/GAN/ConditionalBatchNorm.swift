import Engine
import Support

/// The generator's batch norm: class-conditional (de Vries et al. 2017; Miyato & Koyama 2018) when
/// built with a class count, plain affine batch norm otherwise.
///
/// Conditional: y = BN(x) * gain[label] + bias[label], with BN non-affine and the per-class
/// tables initialised to 1 and 0, so every class starts from plain batch norm. As a PyTorch module:
/// `bn = BatchNorm2d(C, affine=False)`, `gain = Embedding(K, C)`, `bias = Embedding(K, C)`.
/// Unconditional: `bn = BatchNorm2d(C)`.
public final class GeneratorBatchNorm: Layer {
    public let bn: BatchNorm
    public let gain: Embedding?
    public let bias: Embedding?
    /// When set, running statistics move by this momentum instead of bn's (standing statistics:
    /// 1/k on the k-th of a series of passes gives their plain average).
    public var momentumOverride: Float?

    public init(_ channels: Int, classes: Int?, rng: inout RNG) {
        if let classes {
            bn = BatchNorm(channels, affine: false)
            let g = Embedding(classes, channels, rng: &rng), b = Embedding(classes, channels, rng: &rng)
            g.weight.ptr.update(repeating: 1, count: g.weight.count)
            b.weight.ptr.update(repeating: 0, count: b.weight.count)
            gain = g; bias = b
        } else {
            bn = BatchNorm(channels)
            gain = nil; bias = nil
        }
    }

    public override var children: [(String, Layer)] {
        var c: [(String, Layer)] = [("bn", bn)]
        if let gain, let bias { c += [("gain", gain), ("bias", bias)] }
        return c
    }

    public var isConditional: Bool { gain != nil }

    /// `labels` (one per sample) are needed only when conditional; `mix` blends each sample's
    /// gain and bias rows with those of a second class (sampling only, see `ClassMix`).
    public func callAsFunction(_ x: Tensor, labels: [Int], mix: ClassMix? = nil) -> Tensor {
        if isTraining { bn.numBatchesTracked.ptr[0] += 1 }
        let h = batchNorm(x, weight: bn.weight, bias: bn.bias, runningMean: bn.runningMean, runningVar: bn.runningVar,
                          training: isTraining, momentum: momentumOverride ?? bn.momentum, eps: bn.eps)
        guard let gain, let bias else { return h }
        let n = x.shape[0], c = x.shape[1]
        precondition(labels.count == n, "GeneratorBatchNorm: \(labels.count) labels for \(n) samples")
        let shape = [n, c] + Array(repeating: 1, count: x.rank - 2)
        guard let mix else { return h * gain(labels).reshaped(shape) + bias(labels).reshaped(shape) }
        precondition(mix.other.count == n, "GeneratorBatchNorm: \(mix.other.count) mixed classes for \(n) samples")
        let w = Tensor(mix.weight, shape: [n, 1])
        let g = gain(labels) * w + gain(mix.other) * (1 - w), b = bias(labels) * w + bias(mix.other) * (1 - w)
        return h * g.reshaped(shape) + b.reshaped(shape)
    }
}
