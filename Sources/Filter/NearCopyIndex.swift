import Datasets
import Engine
import Foundation
import Models
import Support

/// When a synthetic image counts as a copy of a real one. Two measures of the nearest real
/// training image:
/// - pixel: the RMS pixel difference ||a - b||_2 / sqrt(pixels), pixels scaled to [0, 1]
///   (0 = identical; an image and its own negative would be 1);
/// - features: the cosine similarity of a classifier's penultimate features, centred on the real
///   images' mean feature (1 = same direction), which also catches shifted or re-textured copies
///   the pixels miss.
/// A sample is a near-copy if pixel < `pixelRMS`, or (when a cosine threshold is set) cosine >
/// `cosine`.
public struct NearCopyRule: Codable, Equatable, Sendable {
    /// Below the 1st percentile (0.055) of unseen real images' distance to their nearest training
    /// image: 0.49% of Fashion-MNIST's test images fall under it against the 60,000 training
    /// images (BENCHMARKS.md, "Audit").
    public static let defaultPixelRMS = 0.05
    public static let definition = "near-copy if pixel_rms = ||a-b||_2/sqrt(pixels) (pixels in [0,1]) of the nearest real "
        + "training image < pixel_rms_below, or (when set) the cosine of the penultimate classifier features (centred on the "
        + "real images' mean feature) of the most similar real training image > cosine_above"

    public var pixelRMS: Double
    public var cosine: Double?

    enum CodingKeys: String, CodingKey { case pixelRMS = "pixel_rms_below", cosine = "cosine_above", definition }

    public init(pixelRMS: Double = NearCopyRule.defaultPixelRMS, cosine: Double? = nil) {
        self.pixelRMS = pixelRMS; self.cosine = cosine
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pixelRMS = try c.decode(Double.self, forKey: .pixelRMS)
        cosine = try c.decodeIfPresent(Double.self, forKey: .cosine)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pixelRMS, forKey: .pixelRMS)
        try c.encodeIfPresent(cosine, forKey: .cosine)
        try c.encode(Self.definition, forKey: .definition)
    }

    public func validate() throws {
        guard pixelRMS >= 0 && pixelRMS <= 1 else { throw SynthError("the pixel near-copy threshold must be in [0, 1], got \(pixelRMS)") }
        if let c = cosine, !(c > -1 && c <= 1) { throw SynthError("the cosine near-copy threshold must be in (-1, 1], got \(c)") }
    }

    public func pixelHit(_ m: NearCopyMatch) -> Bool { m.pixelRMS < pixelRMS }
    public func cosineHit(_ m: NearCopyMatch) -> Bool {
        guard let c = cosine, let v = m.cosine else { return false }
        return v > c
    }
    public func isNearCopy(_ m: NearCopyMatch) -> Bool { pixelHit(m) || cosineHit(m) }
}

/// The nearest real image of one sample, by pixels and (with a feature model) by features.
public struct NearCopyMatch: Equatable, Sendable {
    public var realIndex: Int
    /// Exact, from the 8-bit pixels.
    public var pixelRMS: Double
    public var featureIndex: Int?
    public var cosine: Double?
}

/// The real training images held ready for nearest-neighbour queries: pixels as floats in [0, 1]
/// with their squared norms, and, with a feature model, unit-length penultimate features.
public final class NearCopyIndex {
    public let real: Dataset
    public let featureModel: Classifier?
    private let pixels: [Float]
    private let norms: [Float]
    private let features: [Float]
    private let featureNorms: [Float]
    /// The real images' mean feature vector. ReLU features all point into the positive orthant,
    /// so raw cosines crowd near 1 for any two images; centred on the real mean (a correlation),
    /// they spread out and single out copies.
    let featureMean: [Float]

    /// `featureMean` centres the features on another set's mean instead of `real`'s own (a
    /// holdout index centred like the training index it is compared with, so feature distances
    /// to both are in one space).
    public init(real: Dataset, featureModel: Classifier? = nil, featureMean: [Float]? = nil) throws {
        guard real.count > 0 else { throw SynthError("\(real.name): no real images to compare with") }
        if let m = featureModel {
            guard m.card.inputShape == [real.channels, real.height, real.width] else {
                throw SynthError("the feature model expects \(m.card.inputShape) images, \(real.name) holds \([real.channels, real.height, real.width])")
            }
        }
        self.real = real
        self.featureModel = featureModel
        pixels = real.pixels.map { Float($0) / 255 }
        norms = pixels.withUnsafeBufferPointer { NearestNeighbours.squaredNorms($0.baseAddress!, count: real.count, dim: real.imageSize) }
        if let m = featureModel {
            let d = m.featureDimension
            var f = try real.pixels.withUnsafeBufferPointer { try Self.features(m, $0, count: real.count) }
            var mean = [Float](repeating: 0, count: d)
            if let given = featureMean {
                precondition(given.count == d, "NearCopyIndex: a feature mean of \(given.count) for features of \(d)")
                mean = given
            } else {
                for i in 0..<real.count { for j in 0..<d { mean[j] += f[i * d + j] } }
                for j in 0..<d { mean[j] /= Float(real.count) }
            }
            self.featureMean = mean
            Self.centreAndNormalise(&f, dim: d, mean: mean)
            features = f
            featureNorms = f.withUnsafeBufferPointer { NearestNeighbours.squaredNorms($0.baseAddress!, count: real.count, dim: m.featureDimension) }
        } else {
            features = []; featureNorms = []; self.featureMean = []
        }
    }

    public var imageShape: [Int] { [real.channels, real.height, real.width] }

    /// The nearest real image of each of `count` images (planar 8-bit, image after image).
    public func match(_ images: UnsafeBufferPointer<UInt8>, count: Int) throws -> [NearCopyMatch] {
        let size = real.imageSize
        precondition(images.count >= count * size, "NearCopyIndex: \(images.count) bytes for \(count) images")
        guard count > 0 else { return [] }
        let queries = images.prefix(count * size).map { Float($0) / 255 }
        let byPixels = queries.withUnsafeBufferPointer { q in
            pixels.withUnsafeBufferPointer { b in
                norms.withUnsafeBufferPointer { n in
                    NearestNeighbours.search(queries: q.baseAddress!, count: count, base: b.baseAddress!, count: real.count,
                                             dim: size, baseNorms: n.baseAddress!)
                }
            }
        }
        var byFeatures: NearestNeighbours.Result?
        if let m = featureModel {
            let d = m.featureDimension
            var f = try Self.features(m, images, count: count)
            Self.centreAndNormalise(&f, dim: d, mean: featureMean)
            byFeatures = f.withUnsafeBufferPointer { q in
                features.withUnsafeBufferPointer { b in
                    featureNorms.withUnsafeBufferPointer { n in
                        NearestNeighbours.search(queries: q.baseAddress!, count: count, base: b.baseAddress!, count: real.count,
                                                 dim: d, baseNorms: n.baseAddress!)
                    }
                }
            }
        }
        var out: [NearCopyMatch] = []
        out.reserveCapacity(count)
        real.pixels.withUnsafeBufferPointer { rp in
            for i in 0..<count {
                let j = byPixels.index[i]
                // The exact distance of the winner, in integers.
                var ssd = 0
                let a = images.baseAddress! + i * size, b = rp.baseAddress! + j * size
                for p in 0..<size { let d = Int(a[p]) - Int(b[p]); ssd += d * d }
                var match = NearCopyMatch(realIndex: j, pixelRMS: (Double(ssd) / Double(size)).squareRoot() / 255)
                if let bf = byFeatures {
                    match.featureIndex = bf.index[i]
                    // Unit vectors: |a - b|^2 = 2 - 2 cos.
                    match.cosine = Double(max(-1, min(1, 1 - bf.distanceSquared[i] / 2)))
                }
                out.append(match)
            }
        }
        return out
    }

    /// The nearest real image of every image of `data`, `chunk` images at a time (bounding memory).
    public func match(_ data: Dataset, chunk: Int = 2000, progress: (Int, Int) -> Void = { _, _ in }) throws -> [NearCopyMatch] {
        guard [data.channels, data.height, data.width] == imageShape else {
            throw SynthError("\(data.name) holds \([data.channels, data.height, data.width]) images, \(real.name) \(imageShape)")
        }
        var matches: [NearCopyMatch] = []
        matches.reserveCapacity(data.count)
        try data.pixels.withUnsafeBufferPointer { px in
            var start = 0
            while start < data.count {
                let n = min(chunk, data.count - start)
                matches += try match(UnsafeBufferPointer(rebasing: px[(start * data.imageSize)..<((start + n) * data.imageSize)]), count: n)
                start += n
                progress(start, data.count)
            }
        }
        return matches
    }

    /// Penultimate features of a classifier (count x featureDimension).
    public static func features(_ model: Classifier, _ images: UnsafeBufferPointer<UInt8>, count: Int) throws -> [Float] {
        let card = model.card, size = card.inputShape.reduce(1, *), plane = card.height * card.width, d = model.featureDimension
        let normalization = PixelNormalization(mean: card.mean, std: card.std, channels: card.channels)
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var out = [Float](repeating: 0, count: count * d)
        let chunk = 500
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            let x = Tensor(uninitialized: [n] + card.inputShape)
            normalization.apply(images.baseAddress! + start * size, images: n, plane: plane, into: x.ptr)
            let h = Autodiff.withoutGrad { model.features(x) }
            precondition(h.count == n * d, "features: \(h.shape) for \(n) images of dimension \(d)")
            for j in 0..<(n * d) {
                guard h.ptr[j].isFinite else { throw SynthError("the feature model produced a non-finite value: its weights are broken") }
                out[start * d + j] = h.ptr[j]
            }
            start += n
        }
        return out
    }

    /// Subtracts `mean` from every row and scales it to unit length (a zero row stays zero).
    static func centreAndNormalise(_ f: inout [Float], dim d: Int, mean: [Float]) {
        let rows = f.count / d
        for i in 0..<rows {
            var s: Float = 0
            for j in 0..<d { f[i * d + j] -= mean[j]; s += f[i * d + j] * f[i * d + j] }
            let scale: Float = s > 0 ? 1 / s.squareRoot() : 0
            for j in 0..<d { f[i * d + j] *= scale }
        }
    }
}
