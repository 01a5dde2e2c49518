import Datasets
import Foundation
import Support
import Training

/// The real side of seed 003's compression measurement (§IV-B): classifiers trained on real
/// subsets of growing size, once for the same number of optimisation steps as a synthetic set
/// gets, once for the same number of epochs (small subsets then get few steps), each scored on
/// the real test set. Subsets are the class-balanced first N (`@N`).
public struct RealCurves: Codable, Equatable, Sendable {
    public var real: String
    public var test: String
    /// The CAS settings of the same-steps protocol (synthetic sets are trained with these).
    public var settings: CASSettings
    /// Passes over every subset in the same-epochs protocol.
    public var epochs: Int
    public var steps: ErrorCurve
    public var epochCurve: ErrorCurve
    /// Bytes of one real image uncompressed (channels * height * width at 8 bits).
    public var rawBytesPerImage: Int
    /// Mean size of one real image as the PNG a shard stores (synth's encoder).
    public var pngBytesPerImage: Double

    enum CodingKeys: String, CodingKey {
        case real, test, settings, epochs, steps = "same_steps", epochCurve = "same_epochs"
        case rawBytesPerImage = "raw_bytes_per_image", pngBytesPerImage = "png_bytes_per_image"
    }

    public init(real: String, test: String, settings: CASSettings, epochs: Int, steps: ErrorCurve, epochCurve: ErrorCurve,
                rawBytesPerImage: Int, pngBytesPerImage: Double) {
        self.real = real; self.test = test; self.settings = settings; self.epochs = epochs; self.steps = steps
        self.epochCurve = epochCurve; self.rawBytesPerImage = rawBytesPerImage; self.pngBytesPerImage = pngBytesPerImage
    }

    public var sizes: [Int] { steps.points.map(\.size) }

    /// True when a cached curve was measured the same way (its points can be reused).
    public func sameProtocol(real: String, test: String, settings: CASSettings, epochs: Int) -> Bool {
        self.real == real && self.test == test && self.settings == settings && self.epochs == epochs
    }

    public func encoded() -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try! e.encode(self)) + [10]
    }

    public static func read(_ path: String) throws -> RealCurves {
        let bytes = try Files.read(path)
        do { return try JSONDecoder().decode(RealCurves.self, from: Data(bytes)) } catch {
            throw SynthError.file(path, "not a real-curve file written by synth compress")
        }
    }
}

public enum CompressionExperiment {
    /// The epoch count that gives the largest subset the same steps as the same-steps protocol:
    /// there the two protocols coincide (4,690 steps of 128 over 60,000 images: 10 epochs).
    public static func matchingEpochs(settings: CASSettings, largest: Int) -> Int {
        let perEpoch = (largest + settings.batchSize - 1) / settings.batchSize
        let steps = settings.trainingConfig.totalSteps(samples: largest)
        return max(1, Int((Double(steps) / Double(perEpoch)).rounded()))
    }

    public enum Stage: Sendable { case sameSteps, sameEpochs }

    /// Measures every point of both curves that `cached` (a previous run with the same protocol)
    /// does not hold, calling `save` after each new point so an interrupted run loses at most one
    /// training. A same-epochs point that trains exactly as long as its same-steps twin is that
    /// twin (same data, settings and seed give the same model).
    public static func realCurves(real: Dataset, test: Dataset, sizes: [Int], settings: CASSettings, epochs: Int? = nil,
                                  cached: RealCurves? = nil, save: (RealCurves) throws -> Void = { _ in },
                                  progress: (_ size: Int, _ stage: Stage, TrainingProgress) -> Void = { _, _, _ in }) throws -> RealCurves {
        let sorted = Array(Set(sizes)).sorted()
        guard let largest = sorted.last, sorted.first! >= 1 else { throw SynthError("--sizes: give at least one positive size") }
        guard largest <= real.count else {
            throw SynthError("--sizes: \(largest) is more than the \(real.count) samples of \(real.name)")
        }
        guard !settings.soft else { throw SynthError("the real curve trains on hard labels (no --soft)") }
        let e = epochs ?? matchingEpochs(settings: settings, largest: largest)
        let realName = real.name, testName = test.name
        var curves: RealCurves
        if let c = cached, c.sameProtocol(real: realName, test: testName, settings: settings, epochs: e) {
            curves = c
        } else {
            curves = RealCurves(real: realName, test: testName, settings: settings, epochs: e,
                                steps: ErrorCurve(protocolName: "steps", points: []),
                                epochCurve: ErrorCurve(protocolName: "epochs", points: []),
                                rawBytesPerImage: real.imageSize, pngBytesPerImage: meanPNGBytes(real))
        }
        var epochSettings = settings
        epochSettings.length = .epochs(e)
        for n in sorted {
            let subset = n == real.count ? real : real.balancedPrefix(n)
            if !curves.steps.points.contains(where: { $0.size == n }) {
                let (r, _) = try CAS.run(train: subset, test: test, settings: settings) { progress(n, .sameSteps, $0) }
                curves.steps = ErrorCurve(protocolName: "steps", points: curves.steps.points + [point(n, r)])
                try save(curves)
            }
            if !curves.epochCurve.points.contains(where: { $0.size == n }) {
                let twin = curves.steps.points.first { $0.size == n && $0.steps == epochSettings.trainingConfig.totalSteps(samples: n) }
                let p: ErrorCurve.Point
                if let twin {
                    p = twin
                } else {
                    let (r, _) = try CAS.run(train: subset, test: test, settings: epochSettings) { progress(n, .sameEpochs, $0) }
                    p = point(n, r)
                }
                curves.epochCurve = ErrorCurve(protocolName: "epochs", points: curves.epochCurve.points + [p])
                try save(curves)
            }
        }
        // Only the sizes asked for, even when the cache holds more.
        curves.steps.points.removeAll { !sorted.contains($0.size) }
        curves.epochCurve.points.removeAll { !sorted.contains($0.size) }
        return curves
    }

    private static func point(_ n: Int, _ r: CASResult) -> ErrorCurve.Point {
        ErrorCurve.Point(size: n, steps: r.steps, accuracy: r.accuracy, perClass: r.perClass)
    }

    /// Mean encoded PNG size of a dataset's images (synth's encoder, as `pack` stores them).
    public static func meanPNGBytes(_ data: Dataset) -> Double {
        guard data.count > 0 else { return 0 }
        let size = data.imageSize
        let bytes = data.pixels.withUnsafeBufferPointer { px in
            Parallel.map(data.count) { i in
                PNG.encode(pixels: UnsafeBufferPointer(rebasing: px[(i * size)..<((i + 1) * size)]), width: data.width,
                           height: data.height, channels: data.channels).count
            }
        }
        return Double(bytes.reduce(0, +)) / Double(data.count)
    }
}
