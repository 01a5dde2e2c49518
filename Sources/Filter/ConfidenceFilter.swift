import Datasets
import Engine
import Support
import Foundation
import Models

/// Seed 003's Algorithm 1, generalised to an ensemble: a candidate of class y is kept only if the
/// filter classifiers' mean probability vector has its maximum at y and p[y] > threshold.
///
/// Candidates are judged as the exact 8-bit pixels that will be stored (see `Quantize`), each
/// classifier normalising them with its own checkpoint's mean/std, so what is judged is what is
/// stored.
public final class ConfidenceFilter {
    public let classifiers: [Classifier]
    public let threshold: Float
    public let classCount: Int
    /// [channels, height, width] every classifier expects.
    public let imageShape: [Int]
    /// Images per forward pass (bounds memory; results do not depend on it).
    public var chunk = 256
    /// Each classifier's own input normalisation, in classifier order.
    private let normalizations: [PixelNormalization]

    /// All classifiers must agree on classes and input shape; `names` label them in messages.
    public init(classifiers: [Classifier], names: [String], threshold: Float) throws {
        guard let first = classifiers.first else { throw SynthError("a filter needs at least one classifier") }
        guard threshold >= 0 && threshold < 1 else { throw SynthError("--threshold must be in [0, 1), got \(threshold)") }
        for (c, name) in zip(classifiers, names) {
            guard c.card.classes == first.card.classes, c.card.inputShape == first.card.inputShape else {
                throw SynthError.file(name, "has \(c.card.classes) classes of \(c.card.inputShape) images, \(names[0]) has \(first.card.classes) of \(first.card.inputShape): filter models must agree")
            }
        }
        self.classifiers = classifiers
        self.threshold = threshold
        classCount = first.card.classes
        imageShape = first.card.inputShape
        normalizations = classifiers.map { PixelNormalization(mean: $0.card.mean, std: $0.card.std, channels: $0.card.channels) }
        for c in classifiers { c.eval() }
    }

    /// Ensemble-mean class probabilities of `count` images of `imageShape` (planar 8-bit, image
    /// after image): count * classCount values. The mean is summed in classifier order, so it is
    /// the same on every run.
    public func probabilities(_ pixels: UnsafeBufferPointer<UInt8>, count: Int) throws -> [Float] {
        let size = imageShape.reduce(1, *), k = classCount
        precondition(pixels.count >= count * size, "ConfidenceFilter: \(pixels.count) bytes for \(count) images")
        var out = [Float](repeating: 0, count: count * k)
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            for (model, normalization) in zip(classifiers, normalizations) {
                let x = Tensor(uninitialized: [n] + imageShape)
                normalization.apply(pixels.baseAddress! + start * size, images: n, plane: model.card.height * model.card.width, into: x.ptr)
                let p = Autodiff.withoutGrad { softmax(model(x)) }
                let scale = 1 / Float(classifiers.count)
                for j in 0..<(n * k) {
                    let v = p.ptr[j]
                    guard v.isFinite else { throw SynthError("a filter classifier produced a non-finite probability: its weights are broken") }
                    out[start * k + j] += v * scale
                }
            }
            start += n
        }
        return out
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
