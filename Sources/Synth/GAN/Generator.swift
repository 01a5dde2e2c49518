import Engine
import Support

/// An up-sampling residual block of the generator (SNGAN/BigGAN style):
///   F(x) = c2(relu(b2(c1(up(relu(b1(x)))))))        with b1, b2 conditional batch norms
///   add:    y = F(x) + up(c_sc(x))    (c_sc, a 1x1 conv, only when the width changes)
///   concat: y = c_sc(concat(F(x), up(x)))   (c_sc: 1x1 conv from out+in to out channels; computed
///           as W_h F(x) + up(W_x x) + b, see `concatShortcut`)
/// A 1x1 conv commutes with nearest up-sampling, so the add shortcut convolves before up-sampling;
/// c1 of the up-sampled input is computed on the small input (`Conv2d.upsampled`, 16/36 of the
/// multiply-adds).
final class GeneratorBlock: Layer {
    let b1: GeneratorBatchNorm, c1: Conv2d, b2: GeneratorBatchNorm, c2: Conv2d
    let cSC: Conv2d?
    let block: GANConfig.Block

    init(_ inC: Int, _ outC: Int, classes: Int?, block: GANConfig.Block, rng: inout RNG) {
        self.block = block
        b1 = GeneratorBatchNorm(inC, classes: classes, rng: &rng)
        c1 = Conv2d(inC, outC, kernel: 3, padding: 1, rng: &rng)
        b2 = GeneratorBatchNorm(outC, classes: classes, rng: &rng)
        c2 = Conv2d(outC, outC, kernel: 3, padding: 1, rng: &rng)
        switch block {
        case .add: cSC = inC != outC ? Conv2d(inC, outC, kernel: 1, rng: &rng) : nil
        case .concat: cSC = Conv2d(outC + inC, outC, kernel: 1, rng: &rng)
        }
    }

    override var children: [(String, Layer)] {
        [("b1", b1), ("c1", c1), ("b2", b2), ("c2", c2)] + (cSC.map { [("c_sc", $0)] } ?? [])
    }

    func callAsFunction(_ x: Tensor, labels: [Int], mix: ClassMix? = nil) -> Tensor {
        let h = c2(relu(b2(c1.upsampled(relu(b1(x, labels: labels, mix: mix))), labels: labels, mix: mix)))
        switch block {
        case .add: return h + upsample2x(cSC.map { $0(x) } ?? x)
        case .concat: return concatShortcut(h, x)
        }
    }

    /// c_sc(concat(h, up(x))) as W_h h + up(W_x x) + b, W = [W_h | W_x] split by input channel: the
    /// 1x1 conv of x commutes with the up-sampling, so it runs on the small x (4x fewer
    /// multiply-adds), and neither the up-sampled x nor the concatenation is made and kept.
    private func concatShortcut(_ h: Tensor, _ x: Tensor) -> Tensor {
        let c = cSC!, outC = h.shape[1]
        let wh = slice(c.weight, axis: 1, range: 0..<outC), wx = slice(c.weight, axis: 1, range: outC..<c.inChannels)
        return conv2d(h, wh, c.bias) + upsample2x(conv2d(x, wx, nil))
    }
}

/// Nearest-neighbour 2x up-sampling (F.interpolate(scale_factor=2), mode 'nearest').
func upsample2x(_ x: Tensor) -> Tensor {
    resize(x, height: 2 * x.shape[2], width: 2 * x.shape[3], mode: .nearest)
}

/// The residual generator "resgan-g": z -> linear to 4w x (H/4) x (W/4) -> two up-sampling
/// residual blocks (4w -> 2w -> w channels) -> BN-ReLU-conv3x3-tanh, values in [-1, 1].
/// PyTorch names: l1, block1, block2, b_out, c_out.
public final class ResGANGenerator: Layer {
    public let config: GANConfig
    let l1: Linear
    let block1: GeneratorBlock, block2: GeneratorBlock
    let bOut: BatchNorm
    let cOut: Conv2d

    public init(_ config: GANConfig, rng: inout RNG) {
        self.config = config
        let w = config.generatorWidth
        let classes = config.conditional ? config.classes : nil
        l1 = Linear(config.zDim, 4 * w * config.baseHeight * config.baseWidth, rng: &rng)
        block1 = GeneratorBlock(4 * w, 2 * w, classes: classes, block: config.block, rng: &rng)
        block2 = GeneratorBlock(2 * w, w, classes: classes, block: config.block, rng: &rng)
        bOut = BatchNorm(w)
        cOut = Conv2d(w, config.channels, kernel: 3, padding: 1, rng: &rng)
    }

    public override var children: [(String, Layer)] {
        [("l1", l1), ("block1", block1), ("block2", block2), ("b_out", bOut), ("c_out", cOut)]
    }

    /// Every batch norm of the generator (for standing statistics).
    var generatorNorms: [GeneratorBatchNorm] { [block1.b1, block1.b2, block2.b1, block2.b2] }

    /// z [N, zDim] and one label per sample (ignored when unconditional) -> images [N, C, H, W] in [-1, 1].
    /// `mix` blends each sample's class with a second one (see `ClassMix`).
    public func callAsFunction(_ z: Tensor, labels: [Int], mix: ClassMix? = nil) -> Tensor {
        precondition(z.rank == 2 && z.shape[1] == config.zDim, "generator: z \(z.shape) for z_dim \(config.zDim)")
        let n = z.shape[0], w = config.generatorWidth
        var h = l1(z).reshaped([n, 4 * w, config.baseHeight, config.baseWidth])
        h = block1(h, labels: labels, mix: mix)
        h = block2(h, labels: labels, mix: mix)
        return tanh(cOut(relu(bOut(h))))
    }

    /// Re-estimates every batch norm's running statistics as the plain average over `batches`
    /// batches of this generator's own activations (BigGAN's "standing statistics"): the
    /// statistics a sampler in evaluation mode should use, computed with the weights it will use
    /// (an EMA generator never ran forward during training). Leaves the generator in eval mode.
    public func recomputeStatistics(batches: Int = 32, batchSize: Int = 64, seed: UInt64) {
        for bn in generatorNorms.map(\.bn) + [bOut] {
            bn.runningMean.ptr.update(repeating: 0, count: bn.channels)
            bn.runningVar.ptr.update(repeating: 1, count: bn.channels)
        }
        train()
        Autodiff.withoutGrad {
            var rng = RNG(seed: seed)
            for k in 1...max(batches, 1) {
                let momentum = 1 / Float(k)
                for g in generatorNorms { g.momentumOverride = momentum }
                let z = Tensor(uninitialized: [batchSize, config.zDim])
                rng.fillNormal(z.ptr, count: z.count)
                let labels = (0..<batchSize).map { _ in rng.int(below: config.classes) }
                // b_out is a plain BatchNorm layer: run its statistics by hand with the same momentum.
                let n = batchSize, w = config.generatorWidth
                var h = l1(z).reshaped([n, 4 * w, config.baseHeight, config.baseWidth])
                h = block2(block1(h, labels: labels), labels: labels)
                _ = batchNorm(h, weight: bOut.weight, bias: bOut.bias, runningMean: bOut.runningMean,
                              runningVar: bOut.runningVar, training: true, momentum: momentum, eps: bOut.eps)
            }
        }
        for g in generatorNorms { g.momentumOverride = nil }
        eval()
    }
}
