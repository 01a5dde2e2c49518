/// nn.BatchNorm1d / nn.BatchNorm2d (the same module for [N, C] and [N, C, H, W] inputs), with
/// PyTorch's state names: weight, bias (when affine), running_mean, running_var, num_batches_tracked.
public final class BatchNorm: Layer {
    public let weight: Tensor?
    public let bias: Tensor?
    public let runningMean: Tensor
    public let runningVar: Tensor
    /// A 0-dim int64 in PyTorch; counted here in a one-element Float tensor of shape [].
    public let numBatchesTracked: Tensor
    public let momentum: Float
    public let eps: Float
    /// Called with every input before it is normalised. Priors that match a batch's statistics to
    /// the running ones (DeepInversion's loss in CaG) read the layer's input through it; the input
    /// keeps its graph, so a loss built on it differentiates back to the image.
    public var inputObserver: ((Tensor) -> Void)?

    public init(_ channels: Int, affine: Bool = true, momentum: Float = 0.1, eps: Float = 1e-5) {
        weight = affine ? Tensor(filled: 1, shape: [channels], requiresGrad: true) : nil
        bias = affine ? Tensor(zeros: [channels], requiresGrad: true) : nil
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(filled: 1, shape: [channels])
        numBatchesTracked = Tensor(zeros: [])
        self.momentum = momentum
        self.eps = eps
    }

    public var channels: Int { runningMean.count }

    public override var ownState: [StateEntry] {
        var s: [StateEntry] = []
        if let weight { s.append(StateEntry("weight", weight)) }
        if let bias { s.append(StateEntry("bias", bias)) }
        s.append(StateEntry("running_mean", runningMean, isParameter: false))
        s.append(StateEntry("running_var", runningVar, isParameter: false))
        s.append(StateEntry("num_batches_tracked", numBatchesTracked, isParameter: false, isInteger: true))
        return s
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        if isTraining { numBatchesTracked.ptr[0] += 1 }
        inputObserver?(x)
        return batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                         training: isTraining, momentum: momentum, eps: eps)
    }
}
