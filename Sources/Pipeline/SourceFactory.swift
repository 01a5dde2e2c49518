import Datasets
import Engine
import Support
import Foundation
import Synth

/// What `synth build` asks for: the source kind and the model files and settings it was given.
public struct SourceRequest: Sendable {
    /// "cag", "gan", "gan-latent", "replay".
    public var kind: String
    /// The classifier a source inverts (CaG) or steers through (gan-latent).
    public var classifier: String?
    public var reconstructor: String?
    public var generators: [String]
    public var inputGenerator: String?
    public var seed: UInt64
    /// Free-form settings (`--source-option key=value`, and replay's data spec as "data").
    public var options: [String: String]

    public init(kind: String, classifier: String? = nil, reconstructor: String? = nil, generators: [String] = [],
                inputGenerator: String? = nil, seed: UInt64 = 0, options: [String: String] = [:]) {
        self.kind = kind; self.classifier = classifier; self.reconstructor = reconstructor
        self.generators = generators; self.inputGenerator = inputGenerator; self.seed = seed; self.options = options
    }

    /// Parses `--source` text: a kind, or `replay:SPEC`.
    public static func parseKind(_ text: String) throws -> (kind: String, options: [String: String]) {
        if text.hasPrefix("replay:") {
            let spec = String(text.dropFirst("replay:".count))
            guard !spec.isEmpty else { throw SynthError("--source replay:SPEC needs a data spec (e.g. replay:fashion-mnist:test)") }
            return ("replay", ["data": spec])
        }
        guard SourceFactory.kinds.contains(text) else {
            throw SynthError("unknown --source '\(text)' (expected \(SourceFactory.kinds.joined(separator: ", ")) or replay:SPEC)")
        }
        return (text, [:])
    }
}

/// Turns a request into a SampleSource. The generation sources fill their cases here.
public enum SourceFactory {
    public static let kinds = ["cag", "gan", "gan-latent"]

    /// A model flag the source would silently ignore is a mistake worth naming.
    /// `options`: whether `--source-option` is refused too (the source takes none).
    private static func refuse(_ request: SourceRequest, _ flags: [String: String?], options: Bool = true) throws {
        for (flag, value) in flags.sorted(by: { $0.key < $1.key }) where value != nil {
            throw SynthError("\(flag) does not apply to --source \(request.kind)")
        }
        if options && !request.options.isEmpty {
            throw SynthError("--source-option does not apply to --source \(request.kind) (\(request.options.keys.sorted().joined(separator: ", ")))")
        }
    }

    public static func make(_ request: SourceRequest) throws -> SampleSource {
        switch request.kind {
        case "cag":
            return try CaGSource.make(classifier: request.classifier, reconstructor: request.reconstructor,
                                      options: request.options, modelsDirectory: BuildDefaults.modelsDirectory)
        case "gan":
            try refuse(request, ["--classifier": request.classifier, "--reconstructor": request.reconstructor,
                                 "--input-generator": request.inputGenerator], options: false)
            return try GANSource(generatorPaths: request.generators, modelsDirectory: BuildDefaults.modelsDirectory,
                                 sampling: GANSampling(options: BuildDefaults.sourceSettings(source: "gan").merging(request.options) { _, given in given }))
        case "gan-latent":
            try refuse(request, ["--classifier": request.classifier, "--reconstructor": request.reconstructor])
            return try LatentGANSource(generatorPaths: request.generators, inputGeneratorPath: request.inputGenerator,
                                       modelsDirectory: BuildDefaults.modelsDirectory)
        case "replay":
            guard let spec = request.options["data"] else { throw SynthError("source 'replay' needs a data spec") }
            return try ReplaySource(spec: spec)
        default:
            throw SynthError("unknown source '\(request.kind)'")
        }
    }
}

/// `--source replay:SPEC`: real images of each class drawn from a dataset, at random with
/// replacement, by seed. It exists for the pipeline's own tests (a source usable from the command
/// line whose output is known) and as an honest baseline: real data through the same filter and
/// shards as synthetic data. Recorded as source "replay".
public final class ReplaySource: SampleSource {
    public let sourceName = "replay"
    public let classNames: [String]
    public let imageShape: [Int]
    public let modelFiles: [String] = []
    public let preferredBatch = 64
    public let settings: [String: String]
    private let data: Dataset
    private let byClass: [[Int]]

    public init(spec: String) throws {
        data = try Dataset.load(spec: spec)
        classNames = data.classNames
        imageShape = [data.channels, data.height, data.width]
        settings = ["data": spec]
        var byClass = [[Int]](repeating: [], count: data.classCount)
        for (i, l) in data.labels.enumerated() { byClass[l].append(i) }
        self.byClass = byClass
    }

    public func generate(label: Int, count: Int, seed: UInt64) throws -> Tensor {
        let pool = byClass[label]
        guard !pool.isEmpty else { throw SynthError("\(data.name): no image of class \(label) to replay") }
        var rng = RNG(seed: seed)
        let size = data.imageSize
        let out = Tensor(uninitialized: [count] + imageShape)
        data.pixels.withUnsafeBufferPointer { px in
            for k in 0..<count {
                let i = pool[rng.int(below: pool.count)]
                for j in 0..<size { out.ptr[k * size + j] = Float(px[i * size + j]) / 255 }
            }
        }
        return out
    }
}
