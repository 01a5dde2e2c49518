/// How to train a classifier: length (epochs or optimisation steps), batch, optimiser and seed.
public struct TrainingConfig: Sendable {
    public enum Length: Sendable, Equatable { case epochs(Int), steps(Int) }
    public enum OptimizerKind: String, Sendable, CaseIterable { case adam, adamw, sgd }

    public var length: Length
    public var batchSize: Int
    public var learningRate: Float
    public var optimizer: OptimizerKind
    public var weightDecay: Float
    /// Cosine decay of the learning rate to zero over the run (off: constant, as the reference).
    public var cosine: Bool
    public var seed: UInt64

    public init(length: Length = .epochs(2), batchSize: Int = 128, learningRate: Float = 1e-3,
                optimizer: OptimizerKind = .adam, weightDecay: Float = 0, cosine: Bool = false, seed: UInt64 = 0) {
        self.length = length; self.batchSize = batchSize; self.learningRate = learningRate
        self.optimizer = optimizer; self.weightDecay = weightDecay; self.cosine = cosine; self.seed = seed
    }

    /// Total optimisation steps for a dataset of `count` samples (a partial last batch is a step).
    public func totalSteps(samples count: Int) -> Int {
        switch length {
        case .steps(let s): return s
        case .epochs(let e): return e * ((count + batchSize - 1) / batchSize)
        }
    }
}

/// A snapshot for progress display, emitted every few steps and at the end of each epoch.
public struct TrainingProgress: Sendable {
    public let epoch: Int
    public let step: Int
    public let totalSteps: Int
    /// Mean training loss since the previous report.
    public let loss: Double
    public let samplesPerSecond: Double
    public let secondsElapsed: Double
    public var etaSeconds: Double {
        step > 0 ? secondsElapsed / Double(step) * Double(totalSteps - step) : .nan
    }
    public let endOfEpoch: Bool
}
