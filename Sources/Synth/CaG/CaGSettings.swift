import Engine
import Foundation

/// CaG's settings as text KEY=VALUE pairs, as `synth build --source-option` passes them and the
/// manifest records them. Keys are the command-line flags without dashes:
///   steps=N[,N...]  lr=X  beta1=X  blur=SIGMA  lambda-div=X  lambda-dist=X  lambda-rec=X  lambda-target=X  lambda-tv=X  bn-loss=X (0 = off)
///   bn-stats=class|running  param=sigmoid|clamp  emit=x|reconstruction  output-masks=N
///   view=reconstruction|image|both  jitter=N  noise=X  noise-until=X  init-pixel=X  init-spread=X  batch=N  progressive=true|false  resolutions=7,14,28
///   reconstructor=true|false  ensemble=C2.safetensors[,C3...] (more classifiers to invert)
extension CaGConfig {
    /// Each key with the field it sets: one table, so the keys accepted and the keys applied
    /// cannot drift apart. (`ensemble` is read by CaGSource.make, which loads those classifiers.)
    private static let settings: [String: (inout CaGConfig, _ key: String, _ text: String) throws -> Void] = [
        "steps": { $0.stepsPerStage = try ints($1, $2) },
        "lr": { $0.learningRate = try float($1, $2) },
        "beta1": { $0.beta1 = try float($1, $2) },
        "blur": { $0.blurSigma = try float($1, $2) },
        "lambda-div": { $0.lambdaDiv = try float($1, $2) },
        "lambda-dist": { $0.lambdaDist = try float($1, $2) },
        "lambda-rec": { $0.lambdaRec = try float($1, $2) },
        "lambda-target": { $0.lambdaTarget = try float($1, $2) },
        "lambda-tv": { $0.lambdaTV = try float($1, $2) },
        "bn-loss": { $0.lambdaBN = try float($1, $2) },
        "bn-stats": { $0.bnStatistics = try choice($1, $2) },
        "param": { $0.parameterization = try choice($1, $2) },
        "emit": { $0.output = try choice($1, $2) },
        "view": { $0.view = try choice($1, $2) },
        "output-masks": { $0.outputMasks = try int($1, $2) },
        "jitter": { $0.jitter = try int($1, $2) },
        "noise": { $0.noise = try float($1, $2) },
        "noise-until": { $0.noiseUntil = try float($1, $2) },
        "init-pixel": { $0.initPixel = try float($1, $2) },
        "init-spread": { $0.initSpread = try float($1, $2) },
        "batch": { $0.batchSize = try int($1, $2) },
        "progressive": { $0.progressive = try bool($1, $2) },
        "resolutions": { $0.resolutions = try ints($1, $2) },
        "reconstructor": { $0.useReconstructor = try bool($1, $2) },
        "ensemble": { _, _, _ in },
    ]

    public static var optionKeys: Set<String> { Set(settings.keys) }

    /// Defaults overridden by `options`; unknown keys and malformed values are errors.
    public init(options: [String: String]) throws {
        self.init()
        for key in options.keys.sorted() {
            guard let apply = CaGConfig.settings[key] else {
                throw SynthError("unknown CaG setting '\(key)' (known: \(CaGConfig.optionKeys.sorted().joined(separator: ", ")))")
            }
            try apply(&self, key, options[key]!)
        }
        // Ablations switch g off; the reconstruction cannot be emitted then.
        if !useReconstructor && output == .reconstruction { output = .x }
    }

    private static func float(_ key: String, _ text: String) throws -> Float {
        guard let v = Float(text), v.isFinite else { throw SynthError("CaG setting \(key)=\(text): not a number") }
        return v
    }

    private static func int(_ key: String, _ text: String) throws -> Int {
        guard let v = Int(text) else { throw SynthError("CaG setting \(key)=\(text): not an integer") }
        return v
    }

    private static func ints(_ key: String, _ text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { throw SynthError("CaG setting \(key)=\(text): expected integers N[,N...]") }
        return parts.map { $0! }
    }

    private static func bool(_ key: String, _ text: String) throws -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw SynthError("CaG setting \(key)=\(text): expected true or false")
        }
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ text: String) throws -> T where T.RawValue == String {
        guard let v = T(rawValue: text) else {
            throw SynthError("CaG setting \(key)=\(text): expected \(T.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return v
    }
}

extension CaGSource {
    /// The default models `synth build --source cag` uses when given none, in `modelsDirectory`.
    public static let defaultClassifierFile = "teacher-ref-cnn.safetensors"
    public static let defaultReconstructorFile = "cag-ref-recon.safetensors"

    /// The source `synth build --source cag` makes: `classifier` (default: the shipped one) plus any
    /// `ensemble=` classifiers, `reconstructor` (default: the shipped one, unless reconstructor=false),
    /// settings from `options` over the defaults.
    public static func make(classifier: String?, reconstructor: String?, options: [String: String],
                            modelsDirectory: String) throws -> CaGSource {
        let config = try CaGConfig(options: options)
        func inModels(_ name: String) -> String { (modelsDirectory as NSString).appendingPathComponent(name) }
        var classifiers = [classifier ?? inModels(defaultClassifierFile)]
        if let more = options["ensemble"] {
            classifiers += more.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        for path in classifiers where !FileManager.default.fileExists(atPath: path) {
            throw SynthError.file(path, "no such classifier (train one with synth train, or run scripts/make-models)")
        }
        var recon: String?
        if config.useReconstructor {
            let path = reconstructor ?? inModels(defaultReconstructorFile)
            guard FileManager.default.fileExists(atPath: path) else {
                throw SynthError.file(path, "no such reconstructor (train one with synth train-mae, or run scripts/make-models)")
            }
            recon = path
        }
        return try CaGSource(classifiers: classifiers, reconstructor: recon, config: config)
    }
}
