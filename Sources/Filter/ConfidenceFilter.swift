import Datasets
import Engine
import Support
import Foundation
import Models

/// Seed 003's Algorithm 1, generalised to an ensemble: a candidate of class y is kept only if the
/// filter classifiers' mean probability vector (`EnsembleProbabilities`) has its maximum at y and
/// p[y] > threshold.
public final class ConfidenceFilter {
    public let ensemble: EnsembleProbabilities
    public let threshold: Float
    public var classifiers: [Classifier] { ensemble.classifiers }
    public var classCount: Int { ensemble.classCount }
    /// [channels, height, width] every classifier expects.
    public var imageShape: [Int] { ensemble.imageShape }

    /// All classifiers must agree on classes and input shape; `names` label them in messages.
    public init(classifiers: [Classifier], names: [String], threshold: Float) throws {
        guard !classifiers.isEmpty else { throw SynthError("a filter needs at least one classifier") }
        guard threshold >= 0 && threshold < 1 else { throw SynthError("--threshold must be in [0, 1), got \(threshold)") }
        ensemble = try EnsembleProbabilities(classifiers: classifiers, names: names)
        self.threshold = threshold
    }

    /// The filter models' mean class probabilities of `count` 8-bit images (see EnsembleProbabilities).
    public func probabilities(_ pixels: UnsafeBufferPointer<UInt8>, count: Int) throws -> [Float] {
        try ensemble(pixels, count: count)
    }

    public enum Verdict: Equatable {
        case accepted(confidence: Float)
        case wrongClass(predicted: Int)
        case lowConfidence(Float)
    }

    /// The decision for one probability vector and the class it should show.
    public func judge(_ probs: ArraySlice<Float>, label: Int) -> Verdict {
        let base = probs.startIndex
        var best = 0
        for j in 1..<classCount where probs[base + j] > probs[base + best] { best = j }
        let p = probs[base + label]
        if best != label { return .wrongClass(predicted: best) }
        return p > threshold ? .accepted(confidence: p) : .lowConfidence(p)
    }
}

/// Source images in [0, 1] to the 8-bit pixels a shard stores: clamp, scale by 255, round half
/// away from zero.
public enum Quantize {
    public static func pixels(_ t: Tensor) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: t.count)
        let p = t.ptr
        for i in 0..<t.count {
            let v = p[i]
            guard !v.isNaN else { throw SynthError("the source produced NaN pixel values") }
            out[i] = UInt8((min(max(v, 0), 1) * 255).rounded())
        }
        return out
    }
}
