import Engine
import Support

/// `resnet-s`: a small ResNet for 28 and 32 px inputs, used for teachers and filters.
/// A 3x3 stem (no max pool: the images are already small) and three stages of basic blocks at
/// width w, 2w, 4w, the last two downsampling by 2, then global average pooling and a linear head.
/// Names follow torchvision's ResNet (conv1, bn1, layerK.i.conv1, ..., downsample.0/1, fc).
/// Hyper-parameters: "width" (default 32) and "blocks" per stage (default 1).
public final class ResNetS: Classifier {
    let conv1: Conv2d, bn1: BatchNorm
    let stages: [Sequential]
    let fc: Linear
    let width: Int

    public init(card: ModelCard, rng: inout RNG) {
        width = card.hyperparameters["width"] ?? 32
        let blocks = card.hyperparameters["blocks"] ?? 1
        conv1 = Conv2d(card.channels, width, kernel: 3, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm(width)
        var stages: [Sequential] = []
        var inC = width
        for (s, outC) in [width, 2 * width, 4 * width].enumerated() {
            var layer: [Layer] = []
            for b in 0..<blocks {
                layer.append(BasicBlock(inC, outC, stride: (s > 0 && b == 0) ? 2 : 1, rng: &rng))
                inC = outC
            }
            stages.append(Sequential(layer))
        }
        self.stages = stages
        fc = Linear(4 * width, card.classes, rng: &rng)
        super.init(card: card)
    }

    public override var children: [(String, Layer)] {
        [("conv1", conv1), ("bn1", bn1)] + stages.enumerated().map { ("layer\($0.offset + 1)", $0.element) } + [("fc", fc)]
    }

    public override func features(_ x: Tensor) -> Tensor {
        let h = stages.reduce(relu(bn1(conv1(x)))) { $1($0) }
        return globalAveragePool(h)
    }

    public override func head(_ h: Tensor) -> Tensor { fc(h) }
    public override var featureDimension: Int { 4 * width }
}

/// conv3x3-BN-ReLU-conv3x3-BN plus the (projected when the shape changes) input, then ReLU.
final class BasicBlock: Layer {
    let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    let downsample: Sequential?

    init(_ inC: Int, _ outC: Int, stride: Int, rng: inout RNG) {
        conv1 = Conv2d(inC, outC, kernel: 3, stride: stride, padding: 1, bias: false, rng: &rng)
        bn1 = BatchNorm(outC)
        conv2 = Conv2d(outC, outC, kernel: 3, padding: 1, bias: false, rng: &rng)
        bn2 = BatchNorm(outC)
        downsample = (stride != 1 || inC != outC)
            ? Sequential(Conv2d(inC, outC, kernel: 1, stride: stride, bias: false, rng: &rng), BatchNorm(outC))
            : nil
    }

    override var children: [(String, Layer)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (downsample.map { [("downsample", $0)] } ?? [])
    }

    override func callAsFunction(_ x: Tensor) -> Tensor {
        let y = bn2(conv2(relu(bn1(conv1(x)))))
        return relu(y + (downsample.map { $0(x) } ?? x))
    }
}
