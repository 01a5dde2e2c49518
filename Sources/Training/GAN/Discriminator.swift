import Engine
import Support
import Synth

/// A residual block of the discriminator, every weight spectrally normalised:
///   F(x) = pool(c2(relu(c1(a(x)))))     a = identity in the first block (its input is the image), ReLU after
///   add:    y = F(x) + c_sc(pool(x))    (c_sc only when the width changes or the block pools)
///   concat: y = c_sc(concat(F(x), pool(x)))
/// pool is 2x2 average pooling when the block down-samples; the shortcut's 1x1 conv and the
/// pooling commute, so the shortcut pools first (4x cheaper), and c2 followed by the pooling is
/// one stride-2 4x4 convolution (`SNConv2d.pooled`, 16/36 of the multiply-adds).
final class DiscriminatorBlock: Layer {
    let c1: SNConv2d, c2: SNConv2d
    let cSC: SNConv2d?
    let block: GANConfig.Block
    let first: Bool, downsample: Bool

    init(_ inC: Int, _ outC: Int, first: Bool, downsample: Bool, block: GANConfig.Block, rng: inout RNG) {
        self.block = block; self.first = first; self.downsample = downsample
        c1 = SNConv2d(inC, outC, kernel: 3, padding: 1, rng: &rng)
        c2 = SNConv2d(outC, outC, kernel: 3, padding: 1, rng: &rng)
        switch block {
        case .add: cSC = (inC != outC || downsample) ? SNConv2d(inC, outC, kernel: 1, rng: &rng) : nil
        case .concat: cSC = SNConv2d(outC + inC, outC, kernel: 1, rng: &rng)
        }
    }

    override var children: [(String, Layer)] {
        [("c1", c1), ("c2", c2)] + (cSC.map { [("c_sc", $0)] } ?? [])
    }

    override func callAsFunction(_ x: Tensor) -> Tensor {
        let a = relu(c1(first ? x : relu(x)))
        let h = downsample ? c2.pooled(a) : c2(a)
        let s = downsample ? avgPool2d(x, kernel: 2) : x
        switch block {
        case .add: return h + (cSC.map { $0(s) } ?? s)
        case .concat: return cSC!(concat([h, s]))
        }
    }
}

/// The projection discriminator "resgan-d" (Miyato & Koyama 2018): three residual blocks
/// (w, 2w, 2w channels; the first two halve the side), ReLU, global sum pooling to h, then
/// D(x, y) = l_out(h) + <embed(y), h> (the projection term only when conditional).
/// PyTorch names: block1..3, l_out, embed (all under spectral_norm).
public final class ResGANDiscriminator: Layer {
    public let config: GANConfig
    let block1: DiscriminatorBlock, block2: DiscriminatorBlock, block3: DiscriminatorBlock
    let lOut: SNLinear
    let embed: SNEmbedding?

    public init(_ config: GANConfig, rng: inout RNG) {
        self.config = config
        let w = config.discriminatorWidth
        block1 = DiscriminatorBlock(config.channels, w, first: true, downsample: true, block: config.block, rng: &rng)
        block2 = DiscriminatorBlock(w, 2 * w, first: false, downsample: true, block: config.block, rng: &rng)
        block3 = DiscriminatorBlock(2 * w, 2 * w, first: false, downsample: false, block: config.block, rng: &rng)
        lOut = SNLinear(2 * w, 1, rng: &rng)
        embed = config.conditional ? SNEmbedding(config.classes, 2 * w, rng: &rng) : nil
    }

    public override var children: [(String, Layer)] {
        [("block1", block1), ("block2", block2), ("block3", block3), ("l_out", lOut)] + (embed.map { [("embed", $0)] } ?? [])
    }

    /// Images [N, C, H, W] in [-1, 1] and their labels -> scores [N, 1].
    public func callAsFunction(_ x: Tensor, labels: [Int]) -> Tensor {
        let h = sum(relu(block3(block2(block1(x)))), axes: [2, 3])
        let out = lOut(h)
        guard let embed else { return out }
        return out + sum(embed(labels) * h, axes: [1], keepDims: true)
    }
}
