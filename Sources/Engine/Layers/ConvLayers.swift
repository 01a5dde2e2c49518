import Support
/// nn.Conv2d with square kernels: weight [out, in, k, k], bias [out].
public final class Conv2d: Layer {
    /// A var so wrappers (spectral normalisation) can substitute a normalised weight for the forward pass.
    public var weight: Tensor
    public var bias: Tensor?
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RNG) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        (weight, self.bias) = uniformWeightAndBias(weight: [outChannels, inChannels, kernel, kernel], bias: bias ? outChannels : nil,
                                                   fanIn: inChannels * kernel * kernel, rng: &rng)
    }

    public override var ownState: [StateEntry] { weightAndBiasState(weight, bias) }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight, bias, stride: stride, padding: padding)
    }

    /// This 3x3 "same" convolution of x up-sampled 2x (nearest), computed on x (`upsampleConv2d`):
    /// the generator's up-sampling blocks.
    public func upsampled(_ x: Tensor) -> Tensor {
        precondition(kernel == 3 && stride == 1 && padding == 1, "Conv2d.upsampled needs a 3x3 conv with padding 1")
        return upsampleConv2d(x, weight, bias)
    }
}

/// nn.ConvTranspose2d with square kernels: weight [in, out, k, k], bias [out].
public final class ConvTranspose2d: Layer {
    public var weight: Tensor
    public var bias: Tensor?
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, bias: Bool = true, rng: inout RNG) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
        // PyTorch computes fan_in from weight.size(1), which for a transposed conv is the output channels.
        (weight, self.bias) = uniformWeightAndBias(weight: [inChannels, outChannels, kernel, kernel], bias: bias ? outChannels : nil,
                                                   fanIn: outChannels * kernel * kernel, rng: &rng)
    }

    public override var ownState: [StateEntry] { weightAndBiasState(weight, bias) }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        convTranspose2d(x, weight, bias, stride: stride, padding: padding, outputPadding: outputPadding)
    }
}

/// nn.MaxPool2d(kernel, stride) without padding.
public final class MaxPool2d: Layer {
    public let kernel: Int, stride: Int
    public init(_ kernel: Int, stride: Int? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }
    public override func callAsFunction(_ x: Tensor) -> Tensor { maxPool2d(x, kernel: kernel, stride: stride) }
}

/// nn.AvgPool2d(kernel, stride) without padding.
public final class AvgPool2d: Layer {
    public let kernel: Int, stride: Int
    public init(_ kernel: Int, stride: Int? = nil) { self.kernel = kernel; self.stride = stride ?? kernel }
    public override func callAsFunction(_ x: Tensor) -> Tensor { avgPool2d(x, kernel: kernel, stride: stride) }
}
