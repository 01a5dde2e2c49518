import Datasets
import Foundation
import Models
import Support
import Training

/// How a Classification Accuracy Score is measured: a fresh classifier trained only on the
/// training set, then scored on the test set. The defaults are the design's yardstick for
/// Fashion-MNIST (ref-cnn, 4,690 steps of batch 128, Adam 1e-3) with the cosine schedule `synth
/// train` uses; real subsets and synthetic sets are always trained with the same settings, so
/// their errors compare.
public struct CASSettings: Codable, Equatable, Sendable {
    public static let defaultSteps = 4690

    public var arch: String
    public var length: TrainingConfig.Length
    public var batchSize: Int
    public var learningRate: Float
    public var cosine: Bool
    public var seed: UInt64
    /// Train on the stored probability vectors instead of the hard labels.
    public var soft: Bool
    /// With `soft`: targets p^(1/T) renormalised, so T < 1 sharpens the stored probabilities towards
    /// the argmax and T > 1 flattens them (1 = as stored).
    public var temperature: Float

    public init(arch: String = "ref-cnn", length: TrainingConfig.Length = .steps(CASSettings.defaultSteps), batchSize: Int = 128,
                learningRate: Float = 1e-3, cosine: Bool = true, seed: UInt64 = 0, soft: Bool = false, temperature: Float = 1) {
        self.arch = arch; self.length = length; self.batchSize = batchSize; self.learningRate = learningRate
        self.cosine = cosine; self.seed = seed; self.soft = soft; self.temperature = temperature
    }

    public var trainingConfig: TrainingConfig {
        TrainingConfig(length: length, batchSize: batchSize, learningRate: learningRate, optimizer: .adam, cosine: cosine, seed: seed)
    }

    /// "4690 steps" or "10 epochs".
    public var lengthText: String {
        switch length {
        case .steps(let s): return s == 1 ? "1 step" : "\(s) steps"
        case .epochs(let e): return e == 1 ? "1 epoch" : "\(e) epochs"
        }
    }

    enum CodingKeys: String, CodingKey { case arch, steps, epochs, batchSize = "batch", learningRate = "lr", schedule, seed, soft, temperature }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        arch = try c.decode(String.self, forKey: .arch)
        if let s = try c.decodeIfPresent(Int.self, forKey: .steps) { length = .steps(s) } else { length = .epochs(try c.decode(Int.self, forKey: .epochs)) }
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        cosine = try c.decode(String.self, forKey: .schedule) == "cosine"
        guard let seed = try c.decodeSeed(forKey: .seed) else {
            throw DecodingError.keyNotFound(CodingKeys.seed, .init(codingPath: c.codingPath, debugDescription: "no seed"))
        }
        self.seed = seed
        soft = try c.decode(Bool.self, forKey: .soft)
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? 1
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(arch, forKey: .arch)
        switch length {
        case .steps(let s): try c.encode(s, forKey: .steps)
        case .epochs(let e): try c.encode(e, forKey: .epochs)
        }
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(cosine ? "cosine" : "constant", forKey: .schedule)
        try c.encodeSeed(seed, forKey: .seed)
        try c.encode(soft, forKey: .soft)
        // Written only when it changes the targets, so records made before it existed still match.
        if soft && temperature != 1 { try c.encode(temperature, forKey: .temperature) }
    }
}

/// One class's test accuracy.
public struct ClassAccuracy: Codable, Equatable, Sendable {
    public var classIndex: Int
    public var name: String
    /// Test samples of the class.
    public var samples: Int
    public var accuracy: Double
    enum CodingKeys: String, CodingKey { case classIndex = "class", name, samples, accuracy }
    public init(classIndex: Int, name: String, samples: Int, accuracy: Double) {
        self.classIndex = classIndex; self.name = name; self.samples = samples; self.accuracy = accuracy
    }
}

/// The outcome of one CAS measurement. Holds no times, so it can be stored in a manifest.
public struct CASResult: Codable, Equatable, Sendable {
    public var train: String
    public var test: String
    public var trainSamples: Int
    public var testSamples: Int
    public var settings: CASSettings
    /// Optimisation steps actually taken.
    public var steps: Int
    public var accuracy: Double
    public var error: Double { 1 - accuracy }
    public var perClass: [ClassAccuracy]
    /// Set only when the training set holds fewer of the test set's classes than the test set
    /// does (a build of 3 of 10 classes): the classes trained on, and the accuracy over the test
    /// samples of those classes alone. `accuracy` stays over every test sample, so a sample of an
    /// untrained class counts as an error there.
    public var trainedClasses: [Int]?
    public var trainedClassesAccuracy: Double?
    public var trainedClassesTestSamples: Int?

    enum CodingKeys: String, CodingKey {
        case train, test, trainSamples = "train_samples", testSamples = "test_samples", settings, steps, accuracy, error
        case perClass = "per_class", trainedClasses = "trained_classes", trainedClassesAccuracy = "trained_classes_accuracy"
        case trainedClassesTestSamples = "trained_classes_test_samples"
    }

    public init(train: String, test: String, trainSamples: Int, testSamples: Int, settings: CASSettings, steps: Int,
                accuracy: Double, perClass: [ClassAccuracy]) {
        self.train = train; self.test = test; self.trainSamples = trainSamples; self.testSamples = testSamples
        self.settings = settings; self.steps = steps; self.accuracy = accuracy; self.perClass = perClass
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        train = try c.decode(String.self, forKey: .train); test = try c.decode(String.self, forKey: .test)
        trainSamples = try c.decode(Int.self, forKey: .trainSamples); testSamples = try c.decode(Int.self, forKey: .testSamples)
        settings = try c.decode(CASSettings.self, forKey: .settings); steps = try c.decode(Int.self, forKey: .steps)
        accuracy = try c.decode(Double.self, forKey: .accuracy); perClass = try c.decode([ClassAccuracy].self, forKey: .perClass)
        trainedClasses = try c.decodeIfPresent([Int].self, forKey: .trainedClasses)
        trainedClassesAccuracy = try c.decodeIfPresent(Double.self, forKey: .trainedClassesAccuracy)
        trainedClassesTestSamples = try c.decodeIfPresent(Int.self, forKey: .trainedClassesTestSamples)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(train, forKey: .train); try c.encode(test, forKey: .test)
        try c.encode(trainSamples, forKey: .trainSamples); try c.encode(testSamples, forKey: .testSamples)
        try c.encode(settings, forKey: .settings); try c.encode(steps, forKey: .steps)
        try c.encode(accuracy, forKey: .accuracy); try c.encode(error, forKey: .error); try c.encode(perClass, forKey: .perClass)
        try c.encodeIfPresent(trainedClasses, forKey: .trainedClasses)
        try c.encodeIfPresent(trainedClassesAccuracy, forKey: .trainedClassesAccuracy)
        try c.encodeIfPresent(trainedClassesTestSamples, forKey: .trainedClassesTestSamples)
    }
}

/// The Classification Accuracy Score (Ravuri & Vinyals): how well a dataset stands in for the
/// real one, measured as the real test accuracy of a classifier trained only on it.
public enum CAS {
    /// `train` in the test set's label space, its classes matched to the test set's by name
    /// (`Dataset.inLabelSpace`): a training set may cover fewer classes (a build of some classes
    /// keeps the full list, a foreign WebDataset names its classes by number, a folder dataset by
    /// its folders' names in sorted order), but each class it has must be one of the test set's.
    public static func aligned(train: Dataset, test: Dataset) throws -> Dataset {
        guard train.channels == test.channels, train.height == test.height, train.width == test.width else {
            throw SynthError("\(train.name) holds \(train.channels)x\(train.height)x\(train.width) images, \(test.name) \(test.channels)x\(test.height)x\(test.width)")
        }
        guard train.count > 0 else { throw SynthError("\(train.name): no samples to train on") }
        return try train.inLabelSpace(of: test.classNames, named: test.name)
    }

    /// A fresh classifier for `train`'s images over `classNames`, normalised by the training set's
    /// own pixel statistics (the model sees nothing of the test set).
    public static func freshModel(for train: Dataset, classNames: [String], settings: CASSettings) throws -> Classifier {
        let stats = train.channelStatistics()
        let card = ModelCard(kind: "classifier", arch: settings.arch, classNames: classNames, channels: train.channels,
                             height: train.height, width: train.width, mean: stats.mean, std: stats.std)
        return try Architectures.classifier(card, seed: settings.seed)
    }

    /// The stored probability vectors `--soft` trains on, else the one-line refusal.
    @discardableResult
    public static func checkSoftLabels(_ data: Dataset) throws -> [Float] {
        guard let soft = data.softLabels else {
            throw SynthError("\(data.name): --soft needs stored probability vectors (a shards: dataset built by synth with a filter or --label-model)")
        }
        return soft
    }

    /// Trains a fresh classifier on `train` and scores it on `test`.
    public static func run(train: Dataset, test: Dataset, settings: CASSettings,
                           progress: (TrainingProgress) -> Void = { _ in }) throws -> (result: CASResult, model: Classifier) {
        var data = try aligned(train: train, test: test)
        let names = test.classNames
        if settings.soft {
            let soft = try checkSoftLabels(data)
            guard settings.temperature > 0, settings.temperature.isFinite else {
                throw SynthError("soft-label temperature \(settings.temperature): must be a positive number")
            }
            if settings.temperature != 1 {
                data.softLabels = tempered(soft, classes: names.count, temperature: settings.temperature)
            }
        }
        let model = try freshModel(for: data, classNames: names, settings: settings)
        let config = settings.trainingConfig
        try ClassifierTrainer(config: config, soft: settings.soft).train(model, on: data, progress: progress)
        let ev = try Evaluation.run(model, on: test)
        let counts = ev.confusion.map { $0.reduce(0, +) }
        let perClass = ev.perClassAccuracy.enumerated().compactMap { i, a -> ClassAccuracy? in
            counts[i] > 0 ? ClassAccuracy(classIndex: i, name: names[i], samples: counts[i], accuracy: a) : nil
        }
        var result = CASResult(train: train.name, test: test.name, trainSamples: train.count, testSamples: test.count,
                               settings: settings, steps: config.totalSteps(samples: train.count), accuracy: ev.accuracy,
                               perClass: perClass)
        // A set of some classes scored on a test set of all: also the accuracy it can be fairly
        // held to, over the test samples of the classes it holds.
        let trained = Set(train.labels)
        if counts.indices.contains(where: { counts[$0] > 0 && !trained.contains($0) }) {
            let held = trained.filter { $0 < counts.count }.sorted()
            let samples = held.reduce(0) { $0 + counts[$1] }
            result.trainedClasses = held
            result.trainedClassesTestSamples = samples
            result.trainedClassesAccuracy = samples > 0 ? Double(held.reduce(0) { $0 + ev.confusion[$1][$1] }) / Double(samples) : nil
        }
        return (result, model)
    }

    /// Each row of `probabilities` ([N, classes]) raised to 1/T and renormalised, in log space so
    /// that a small T does not underflow a row to zeros.
    static func tempered(_ probabilities: [Float], classes k: Int, temperature t: Float) -> [Float] {
        var out = [Float](repeating: 0, count: probabilities.count)
        let floor = Float.leastNormalMagnitude
        for r in 0..<(probabilities.count / k) {
            var top = -Float.infinity
            for j in 0..<k { top = max(top, log(max(probabilities[r * k + j], floor)) / t) }
            var sum: Float = 0
            for j in 0..<k {
                let e = exp(log(max(probabilities[r * k + j], floor)) / t - top)
                out[r * k + j] = e; sum += e
            }
            for j in 0..<k { out[r * k + j] /= sum }
        }
        return out
    }
}
