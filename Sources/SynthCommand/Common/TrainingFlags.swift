import ArgumentParser

/// The checks every training command makes of its length, batch and learning-rate flags
/// (train, train-mae, cas and the experiments), so they word their errors alike.
func validateTrainingFlags(epochs: Int?, steps: Int?, batch: Int, lr: Float) throws {
    if epochs != nil && steps != nil { throw ValidationError("give --epochs or --steps, not both") }
    if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1") }
    if let s = steps, s < 1 { throw ValidationError("--steps must be at least 1") }
    if batch < 1 { throw ValidationError("--batch must be at least 1") }
    if !(lr > 0) { throw ValidationError("--lr must be positive") }
}

/// `--schedule` of every training command: the argument parser refuses anything else by name.
enum LearningRateSchedule: String, ExpressibleByArgument, CaseIterable {
    /// Decay to zero over the run.
    case cosine
    case constant
}
