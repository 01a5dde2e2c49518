import Datasets
import Engine
import Models
import Support

/// The mean class-probability vector of an ensemble of classifiers on 8-bit images: what the
/// confidence filter judges by, and what a build stores as each sample's soft label (`probs`),
/// from the filter's models or from the models given by `--label-model`.
///
/// Each classifier normalises the pixels with its own checkpoint's mean/std, so what is judged is
/// what is stored. The mean is summed in classifier order, so it is the same on every run.
public final class EnsembleProbabilities {
    public let classifiers: [Classifier]
    public let classCount: Int
    /// [channels, height, width] every classifier expects.
    public let imageShape: [Int]
    /// Images per forward pass (bounds memory; results do not depend on it).
    public var chunk = 256
    /// Each classifier's own input normalisation, in classifier order.
    private let normalizations: [PixelNormalization]

    /// All classifiers must agree on classes and input shape; `names` label them in messages.
    public init(classifiers: [Classifier], names: [String]) throws {
        guard let first = classifiers.first else { throw SynthError("an ensemble needs at least one classifier") }
        for (c, name) in zip(classifiers, names) {
            guard c.card.classes == first.card.classes, c.card.inputShape == first.card.inputShape else {
                throw SynthError.file(name, "has \(c.card.classes) classes of \(c.card.inputShape) images, \(names[0]) has \(first.card.classes) of \(first.card.inputShape): the models must agree")
            }
        }
        self.classifiers = classifiers
        classCount = first.card.classes
        imageShape = first.card.inputShape
        normalizations = classifiers.map { PixelNormalization(mean: $0.card.mean, std: $0.card.std, channels: $0.card.channels) }
        for c in classifiers { c.eval() }
    }

    /// Ensemble-mean class probabilities of `count` images of `imageShape` (planar 8-bit, image
    /// after image): count * classCount values.
    public func callAsFunction(_ pixels: UnsafeBufferPointer<UInt8>, count: Int) throws -> [Float] {
        let size = imageShape.reduce(1, *), k = classCount
        precondition(pixels.count >= count * size, "EnsembleProbabilities: \(pixels.count) bytes for \(count) images")
        var out = [Float](repeating: 0, count: count * k)
        let scale = 1 / Float(classifiers.count)
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            for (model, normalization) in zip(classifiers, normalizations) {
                let x = Tensor(uninitialized: [n] + imageShape)
                normalization.apply(pixels.baseAddress! + start * size, images: n, plane: model.card.height * model.card.width, into: x.ptr)
                let p = Autodiff.withoutGrad { softmax(model(x)) }
                for j in 0..<(n * k) {
                    let v = p.ptr[j]
                    guard v.isFinite else { throw SynthError("a classifier produced a non-finite probability: its weights are broken") }
                    out[start * k + j] += v * scale
                }
            }
            start += n
        }
        return out
    }
}
