import Datasets
import Engine
import Support
import Foundation
import Synth

/// Trains CaG's reconstruction module as a masked autoencoder: each step hides a fresh random
/// share of patches, and the mean squared error counts only the hidden pixels (eq. 2), so the
/// module learns to fill in what it cannot see rather than to copy what it can.
public struct MAETrainer {
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Float
    public var seed: UInt64
    public var reportEvery = 50

    public init(steps: Int, batchSize: Int = 128, learningRate: Float = 1e-3, seed: UInt64 = 0) {
        self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate; self.seed = seed
    }

    /// The loss of one batch: reconstruction error over the hidden pixels only.
    public static func loss(_ model: Reconstructor, images x: Tensor, mask: Tensor) -> Tensor {
        maskedMSE(model(x, mask: mask), x, mask: 1 - mask)
    }

    public func train(_ model: Reconstructor, on data: Dataset, progress: (TrainingProgress) -> Void = { _ in }) throws {
        guard data.count > 0 else { throw SynthError("\(data.name): no images to train on") }
        guard data.channels == model.card.channels, data.height == model.card.height, data.width == model.card.width else {
            throw SynthError("\(data.name): images are \(data.channels)x\(data.height)x\(data.width), the reconstructor expects \(model.card.inputShape.map(String.init).joined(separator: "x"))")
        }
        model.train()
        let opt = Adam(model.parameters, lr: learningRate)
        var rng = RNG(seed: seed)
        let loop = MinibatchLoop(count: data.count, batchSize: batchSize, steps: steps, label: "MAE training", reportEvery: reportEvery)
        try loop.train(rng: &rng, optimizer: opt, loss: { idx, _, rng in
            let x = data.batch(idx, normalisedFor: model.card)
            let mask = PatchMask.random(count: idx.count, height: data.height, width: data.width,
                                        patch: model.patch, ratio: model.maskRatio, rng: &rng)
            return MAETrainer.loss(model, images: x, mask: mask)
        }, progress: progress)
        model.eval()
    }

    /// Mean hidden-pixel error over a dataset with masks from `seed` (for reporting).
    public static func evaluate(_ model: Reconstructor, on data: Dataset, seed: UInt64 = 1, batchSize: Int = 500) -> Double {
        var rng = RNG(seed: seed)
        var total = 0.0
        Autodiff.withoutGrad {
            data.forEachBatch(size: batchSize, normalisedFor: model.card) { idx, x in
                let mask = PatchMask.random(count: idx.count, height: data.height, width: data.width,
                                            patch: model.patch, ratio: model.maskRatio, rng: &rng)
                total += Double(loss(model, images: x, mask: mask).item) * Double(idx.count)
            }
        }
        return total / Double(max(data.count, 1))
    }
}
