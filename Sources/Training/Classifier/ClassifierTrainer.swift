import Datasets
import Engine
import Foundation
import Models
import Support

/// Trains a classifier on a dataset with cross-entropy against hard labels or, when the dataset
/// carries them and `soft` is set, against stored probability vectors (distillation).
public struct ClassifierTrainer {
    public let config: TrainingConfig
    public var soft = false
    /// How often (in steps) progress is reported between epoch ends.
    public var reportEvery = 50

    public init(config: TrainingConfig, soft: Bool = false) {
        self.config = config
        self.soft = soft
    }

    public func train(_ model: Classifier, on data: Dataset, progress: (TrainingProgress) -> Void = { _ in }) throws {
        try train(model, on: data, epochs: nil, progress: progress)
    }

    /// `epochs(e)`, when given, is the data of epoch e >= 2 (the first is `data`): a live feed's
    /// fresh samples each epoch. It must hold as many samples as `data`, in the same shape.
    public func train(_ model: Classifier, on data: Dataset, epochs: ((Int) throws -> Dataset)?,
                      progress: (TrainingProgress) -> Void = { _ in }) throws {
        guard data.count > 0 else { throw SynthError("\(data.name): no samples to train on") }
        guard data.channels == model.card.channels, data.height == model.card.height, data.width == model.card.width else {
            throw SynthError("\(data.name): images are \(data.channels)x\(data.height)x\(data.width), the model expects \(model.card.inputShape.map(String.init).joined(separator: "x"))")
        }
        if let bad = data.labels.first(where: { $0 < 0 || $0 >= model.card.classes }) {
            throw SynthError("\(data.name): label \(bad) outside the model's \(model.card.classes) classes")
        }
        if soft && data.softLabels == nil {
            throw SynthError("\(data.name): --soft needs stored probability vectors (a shards: dataset built by synth)")
        }

        model.train()
        let params = model.parameters
        let opt: Optimizer = switch config.optimizer {
        case .adam: Adam(params, lr: config.learningRate, weightDecay: config.weightDecay)
        case .adamw: Adam.adamW(params, lr: config.learningRate, weightDecay: config.weightDecay)
        case .sgd: SGD(params, lr: config.learningRate, momentum: 0.9, nesterov: true, weightDecay: config.weightDecay)
        }
        let schedule = config.cosine ? CosineSchedule(base: config.learningRate, totalSteps: config.totalSteps(samples: data.count)) : nil

        let total = config.totalSteps(samples: data.count)
        let classes = model.card.classes
        var rng = RNG(seed: config.seed)
        let loop = MinibatchLoop(count: data.count, batchSize: config.batchSize, steps: total, reportEvery: reportEvery)
        var current = data
        try loop.train(rng: &rng, optimizer: opt, loss: { slice, step, _ in
            let idx = Array(slice)
            let x = current.batch(slice, normalisedFor: model.card)
            if let schedule { opt.lr = schedule.lr(step: step) }
            let logits = model(x)
            guard soft, let sl = current.softLabels else { return crossEntropy(logits, labels: idx.map { current.labels[$0] }) }
            let t = Tensor(uninitialized: [idx.count, classes])
            for (r, i) in idx.enumerated() {
                for j in 0..<classes { t.ptr[r * classes + j] = sl[i * classes + j] }
            }
            return crossEntropy(logits, soft: t)
        }, epochStart: { epoch in
            guard epoch >= 2, let epochs else { return }
            let next = try epochs(epoch)
            guard next.count == current.count, next.imageSize == current.imageSize, (next.softLabels != nil) == (current.softLabels != nil) else {
                throw SynthError("\(next.name): epoch \(epoch) holds \(next.count) samples, the first held \(current.count)")
            }
            current = next
        }, progress: progress)
        model.eval()
    }
}
