import Foundation

/// A headline figure: one CAS measured with several training seeds, as its mean and spread.
/// Reruns of the same dataset move CAS by 1.5-1.9 points (BENCHMARKS.md), so one seed alone is
/// no figure; `synth cas --seeds 3` gives this.
public struct SeedSpread: Equatable, Sendable {
    public var seeds: [UInt64]
    public var accuracies: [Double]
    public var mean: Double
    /// Sample standard deviation (n - 1); 0 for a single run.
    public var std: Double
    public var min: Double
    public var max: Double

    public init(_ runs: [CASResult]) {
        precondition(!runs.isEmpty, "SeedSpread of no runs")
        seeds = runs.map(\.settings.seed)
        accuracies = runs.map(\.accuracy)
        let n = Double(accuracies.count)
        mean = accuracies.reduce(0, +) / n
        let m = mean
        std = accuracies.count > 1 ? (accuracies.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
        min = accuracies.min()!
        max = accuracies.max()!
    }
}
