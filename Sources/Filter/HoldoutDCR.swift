import Datasets
import Foundation
import Models
import Support

/// Distance to the closest record (DCR) against a holdout: for every sample its distance to the
/// nearest image of the training reference and to the nearest image of a holdout the models never
/// saw, both sets of one size. An export that does not leak its training set sits as near the
/// holdout as the training images (share closer to training 0.5); one that reproduces training
/// images sits nearer them (share towards 1).
///
/// Distances: pixels, the RMS difference of [0, 1] pixels (exact, as `NearCopyMatch.pixelRMS`);
/// features, the Euclidean distance of the audit model's penultimate features centred on the
/// training reference's mean and scaled to unit length (sqrt(2 - 2 cos), in [0, 2]).
public struct HoldoutDCRRecord: Codable, Equatable, Sendable {
    public static let definitionText = "dcr = distance of a sample to its nearest image of a set: pixels as pixel_rms (||a-b||_2/sqrt(pixels), "
        + "pixels in [0,1]); features as ||u-v||_2 of the audit model's penultimate features centred on the training reference's mean "
        + "and scaled to unit length. closer_to_training = share of samples with dcr(training) < dcr(holdout), ties counted half; "
        + "0.5 = no leak. The larger of training and holdout is subsampled (uniformly, by seed) to the smaller's size."

    /// One distance's comparison.
    public struct Measure: Codable, Equatable, Sendable {
        public var closerToTraining: Double
        public var training: DistanceSummary
        public var holdout: DistanceSummary
        /// Equal-width bins over [0, histogramMax) (the last bin takes everything above), both DCRs.
        public var trainingHistogram: [Int]
        public var holdoutHistogram: [Int]
        public var histogramMax: Double
        enum CodingKeys: String, CodingKey {
            case closerToTraining = "closer_to_training", training, holdout
            case trainingHistogram = "training_histogram", holdoutHistogram = "holdout_histogram", histogramMax = "histogram_max"
        }
    }

    public struct ClassDCR: Codable, Equatable, Sendable {
        public var classIndex: Int
        public var name: String
        public var samples: Int
        public var pixelCloserToTraining: Double
        public var pixelTrainingP05: Double
        public var pixelHoldoutP05: Double
        public var featureCloserToTraining: Double?
        public var featureTrainingP05: Double?
        public var featureHoldoutP05: Double?
        enum CodingKeys: String, CodingKey {
            case classIndex = "class", name, samples
            case pixelCloserToTraining = "pixel_closer_to_training", pixelTrainingP05 = "pixel_training_p05"
            case pixelHoldoutP05 = "pixel_holdout_p05", featureCloserToTraining = "feature_closer_to_training"
            case featureTrainingP05 = "feature_training_p05", featureHoldoutP05 = "feature_holdout_p05"
        }
    }

    /// The specs as given, the full sizes and the size both were brought to.
    public var training: String
    public var trainingAvailable: Int
    public var holdout: String
    public var holdoutAvailable: Int
    public var referenceSize: Int
    @SeedCoded public var seed: UInt64?
    public var samples: Int
    public var pixel: Measure
    public var features: Measure?
    public var perClass: [ClassDCR]

    /// What the numbers mean, written beside them.
    public var definition = HoldoutDCRRecord.definitionText

    enum CodingKeys: String, CodingKey {
        case training, trainingAvailable = "training_available", holdout, holdoutAvailable = "holdout_available"
        case referenceSize = "reference_size", seed, samples, pixel, features, perClass = "per_class", definition
    }

    public init(training: String, trainingAvailable: Int, holdout: String, holdoutAvailable: Int, referenceSize: Int, seed: UInt64,
                samples: Int, pixel: Measure, features: Measure?, perClass: [ClassDCR]) {
        self.training = training; self.trainingAvailable = trainingAvailable; self.holdout = holdout
        self.holdoutAvailable = holdoutAvailable; self.referenceSize = referenceSize; self.seed = seed
        self.samples = samples; self.pixel = pixel; self.features = features; self.perClass = perClass
    }

    /// The larger of the two shares (pixels, features): what `--max-leak` compares.
    public var leak: Double { max(pixel.closerToTraining, features?.closerToTraining ?? 0) }
}

public enum HoldoutDCR {
    /// The indices of `n` of `count` items, drawn uniformly without replacement by `seed`, in order.
    public static func subsample(_ count: Int, to n: Int, seed: UInt64) -> [Int] {
        precondition(n >= 0 && n <= count, "HoldoutDCR.subsample: \(n) of \(count)")
        guard n < count else { return Array(0..<count) }
        var rng = RNG(seed: RNG.derive(seed, 0x4443_52))
        return rng.permutation(count).prefix(n).sorted()
    }

    /// Brings `training` and `holdout` to one size (the larger subsampled by `seed`); both must hold
    /// the same image shape and classes. The holdout's subsample is drawn with a seed of its own.
    public static func sized(training: Dataset, holdout: Dataset, seed: UInt64) throws -> (training: Dataset, holdout: Dataset) {
        guard [training.channels, training.height, training.width] == [holdout.channels, holdout.height, holdout.width] else {
            throw SynthError("holdout \(holdout.name) holds \([holdout.channels, holdout.height, holdout.width]) images, "
                + "training reference \(training.name) \([training.channels, training.height, training.width])")
        }
        guard training.classNames == holdout.classNames else {
            throw SynthError("holdout \(holdout.name) has classes \(holdout.classNames.prefix(3).joined(separator: ", "))..., "
                + "training reference \(training.name) \(training.classNames.prefix(3).joined(separator: ", "))...")
        }
        guard training.count > 0, holdout.count > 0 else {
            throw SynthError("\(training.count == 0 ? training.name : holdout.name): no images to compare with")
        }
        let n = min(training.count, holdout.count)
        func cut(_ d: Dataset, _ salt: UInt64) -> Dataset {
            guard d.count > n else { return d }
            var out = d.subset(indices: subsample(d.count, to: n, seed: RNG.derive(seed, salt)))
            out.name = d.name
            return out
        }
        return (cut(training, 1), cut(holdout, 2))
    }

    /// Every sample of `data` against the (already sized) training reference and holdout.
    public static func run(_ data: Dataset, training: Dataset, holdout: Dataset, trainingSpec: String, trainingAvailable: Int,
                           holdoutSpec: String, holdoutAvailable: Int, seed: UInt64, featureModel: Classifier?, chunk: Int = 2000,
                           progress: (Int, Int) -> Void = { _, _ in }) throws -> HoldoutDCRRecord {
        guard data.count > 0 else { throw SynthError("\(data.name): no samples to audit") }
        guard training.count == holdout.count else {
            throw SynthError("HoldoutDCR: training reference \(training.count) and holdout \(holdout.count) differ in size")
        }
        let trainIndex = try NearCopyIndex(real: training, featureModel: featureModel)
        let holdIndex = try NearCopyIndex(real: holdout, featureModel: featureModel,
                                          featureMean: featureModel == nil ? nil : trainIndex.featureMean)
        let toTraining = try trainIndex.match(data, chunk: chunk) { done, total in progress(done, 2 * total) }
        let toHoldout = try holdIndex.match(data, chunk: chunk) { done, total in progress(total + done, 2 * total) }
        let pt = toTraining.map(\.pixelRMS), ph = toHoldout.map(\.pixelRMS)
        func featureDistance(_ m: NearCopyMatch) -> Double { (max(0, 2 - 2 * (m.cosine ?? 1))).squareRoot() }
        let ft = featureModel == nil ? nil : toTraining.map(featureDistance)
        let fh = featureModel == nil ? nil : toHoldout.map(featureDistance)
        var perClass: [HoldoutDCRRecord.ClassDCR] = []
        for c in 0..<data.classCount {
            let members = (0..<data.count).filter { data.labels[$0] == c }
            guard !members.isEmpty else { continue }
            let mpt = members.map { pt[$0] }, mph = members.map { ph[$0] }
            var row = HoldoutDCRRecord.ClassDCR(
                classIndex: c, name: data.classNames[c], samples: members.count, pixelCloserToTraining: closerShare(mpt, mph),
                pixelTrainingP05: DistanceSummary(mpt).p05, pixelHoldoutP05: DistanceSummary(mph).p05)
            if let ft, let fh {
                let a = members.map { ft[$0] }, b = members.map { fh[$0] }
                row.featureCloserToTraining = closerShare(a, b)
                row.featureTrainingP05 = DistanceSummary(a).p05
                row.featureHoldoutP05 = DistanceSummary(b).p05
            }
            perClass.append(row)
        }
        var features: HoldoutDCRRecord.Measure?
        if let ft, let fh { features = measure(ft, fh, top: 1.5) }
        return HoldoutDCRRecord(training: trainingSpec, trainingAvailable: trainingAvailable, holdout: holdoutSpec,
                                holdoutAvailable: holdoutAvailable, referenceSize: training.count, seed: seed, samples: data.count,
                                pixel: measure(pt, ph, top: 0.25), features: features, perClass: perClass)
    }

    /// The share of pairs with training < holdout, ties counted half.
    public static func closerShare(_ training: [Double], _ holdout: [Double]) -> Double {
        precondition(training.count == holdout.count)
        guard !training.isEmpty else { return .nan }
        var s = 0.0
        for (a, b) in zip(training, holdout) { s += a < b ? 1 : (a == b ? 0.5 : 0) }
        return s / Double(training.count)
    }

    static func measure(_ training: [Double], _ holdout: [Double], top: Double, bins: Int = 25) -> HoldoutDCRRecord.Measure {
        func histogram(_ v: [Double]) -> [Int] {
            var h = [Int](repeating: 0, count: bins)
            for x in v { h[min(Int(x / top * Double(bins)), bins - 1)] += 1 }
            return h
        }
        return .init(closerToTraining: closerShare(training, holdout), training: DistanceSummary(training), holdout: DistanceSummary(holdout),
                     trainingHistogram: histogram(training), holdoutHistogram: histogram(holdout), histogramMax: top)
    }
}
