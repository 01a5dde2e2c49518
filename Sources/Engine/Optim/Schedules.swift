import Foundation

/// A learning rate as a function of the 0-based optimisation step; set `optimizer.lr` from it
/// before each step.
public protocol LRSchedule {
    func lr(step: Int) -> Float
}

/// Linear warm-up to `base` over `warmupSteps` (step s gets base * (s + 1) / warmupSteps), then
/// half a cosine from `base` down to `minLR` at `totalSteps` (CosineAnnealingLR's closed form with
/// T_max = totalSteps - warmupSteps), and `minLR` after that.
public struct CosineSchedule: LRSchedule, Sendable {
    public let base: Float, totalSteps: Int, warmupSteps: Int, minLR: Float

    public init(base: Float, totalSteps: Int, warmupSteps: Int = 0, minLR: Float = 0) {
        precondition(totalSteps > 0 && warmupSteps >= 0, "CosineSchedule: \(totalSteps) steps, \(warmupSteps) warm-up")
        self.base = base; self.totalSteps = totalSteps; self.warmupSteps = warmupSteps; self.minLR = minLR
    }

    public func lr(step: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        let span = Swift.max(totalSteps - warmupSteps, 1)
        let progress = Swift.min(Double(step - warmupSteps) / Double(span), 1)
        return minLR + (base - minLR) * Float(0.5 * (1 + Foundation.cos(Double.pi * progress)))
    }
}

/// StepLR: base * gamma^(step / stepSize).
public struct StepSchedule: LRSchedule, Sendable {
    public let base: Float, stepSize: Int, gamma: Float

    public init(base: Float, stepSize: Int, gamma: Float) {
        precondition(stepSize > 0, "StepSchedule: step size \(stepSize)")
        self.base = base; self.stepSize = stepSize; self.gamma = gamma
    }

    public func lr(step: Int) -> Float {
        base * Foundation.powf(gamma, Float(step / stepSize))
    }
}
