import Engine
import Foundation
import Support

/// CaG's settings as text KEY=VALUE pairs, as `synth build --source-option` passes them and the
/// manifest records them. `settingTable` is the one list of them: what is accepted, what each sets,
/// and the help text `synth help build` shows.
extension CaGConfig {
    /// One setting: its key, the values it takes, what it does in plain words, how it sets the
    /// config, and how to show a config's value of it (nil: it has no field here).
    public struct Setting: Sendable {
        public let key: String
        public let values: String
        public let meaning: String
        let apply: @Sendable (inout CaGConfig, _ key: String, _ text: String) throws -> Void
        let shown: (@Sendable (CaGConfig) -> String)?

        /// This setting's value in `config`, as its key would take it (nil when it has none).
        public func value(in config: CaGConfig) -> String? { shown?(config) }
    }

    private static func joined(_ v: [Int]) -> String { v.map(String.init).joined(separator: ",") }

    /// Every setting, in the order help lists them. (`ensemble` is read by CaGSource.make, which
    /// loads those classifiers.)
    public static let settingTable: [Setting] = [
        Setting(key: "steps", values: "N[,N...]", meaning: "Adam steps per resolution stage: one count for every stage, or one per stage.",
                apply: { $0.stepsPerStage = try ints($1, $2) }, shown: { joined($0.stepsPerStage) }),
        Setting(key: "lr", values: "X", meaning: "Adam's learning rate on the image.",
                apply: { $0.learningRate = try float($1, $2) }, shown: { String($0.learningRate) }),
        Setting(key: "beta1", values: "X", meaning: "Adam's momentum; lower values follow the random masks less stubbornly.",
                apply: { $0.beta1 = try float($1, $2) }, shown: { String($0.beta1) }),
        Setting(key: "progressive", values: "true|false",
                meaning: "Progressive resolution: optimise the image at a quarter, then half, then full size (7, 14, 28 px for Fashion-MNIST).",
                apply: { $0.progressive = try bool($1, $2) }, shown: { String($0.progressive) }),
        Setting(key: "resolutions", values: "N,N,...", meaning: "Explicit stage sizes in pixels, coarse to fine (overrides progressive).",
                apply: { $0.resolutions = try ints($1, $2) }, shown: { $0.resolutions.isEmpty ? "none" : joined($0.resolutions) }),
        Setting(key: "reconstructor", values: "true|false",
                meaning: "Optimise the image through the reconstruction module (a masked autoencoder that redraws hidden patches); false inverts the classifier alone.",
                apply: { $0.useReconstructor = try bool($1, $2) }, shown: { String($0.useReconstructor) }),
        Setting(key: "view", values: "reconstruction|image|both",
                meaning: "What the classifiers judge: the reconstruction module's version of the image, the image itself, or both.",
                apply: { $0.view = try choice($1, $2) }, shown: { $0.view.rawValue }),
        Setting(key: "emit", values: "x|reconstruction",
                meaning: "A sample is the optimised image (x), or the reconstruction module's version of it averaged over output-masks random masks.",
                apply: { $0.output = try choice($1, $2) }, shown: { $0.output.rawValue }),
        Setting(key: "output-masks", values: "N", meaning: "Random masks the emitted reconstruction is averaged over.",
                apply: { $0.outputMasks = try int($1, $2) }, shown: { String($0.outputMasks) }),
        Setting(key: "lambda-div", values: "X", meaning: "Weight of the diversity loss, which pushes samples of a class apart in the classifier's features.",
                apply: { $0.lambdaDiv = try float($1, $2) }, shown: { String($0.lambdaDiv) }),
        Setting(key: "lambda-dist", values: "X",
                meaning: "Weight of the distribution loss: a batch's feature mean and spread against the class's (needs the classifier's .stats.safetensors, from synth stats).",
                apply: { $0.lambdaDist = try float($1, $2) }, shown: { String($0.lambdaDist) }),
        Setting(key: "lambda-target", values: "X",
                meaning: "Weight of the feature-target loss: each sample is pulled to its own random draw from the class's feature statistics (needs .stats.safetensors).",
                apply: { $0.lambdaTarget = try float($1, $2) }, shown: { String($0.lambdaTarget) }),
        Setting(key: "lambda-rec", values: "X",
                meaning: "Weight of the reconstruction prior: the reconstruction module's error on the image's hidden patches, so images stay ones it can redraw.",
                apply: { $0.lambdaRec = try float($1, $2) }, shown: { String($0.lambdaRec) }),
        Setting(key: "lambda-tv", values: "X", meaning: "Weight of the smoothness (total variation) prior on the image.",
                apply: { $0.lambdaTV = try float($1, $2) }, shown: { String($0.lambdaTV) }),
        Setting(key: "bn-loss", values: "X",
                meaning: "Weight of the batch-norm prior: a batch's channel statistics at each batch-norm layer against the training data's; 0 = off.",
                apply: { $0.lambdaBN = try float($1, $2) }, shown: { String($0.lambdaBN) }),
        Setting(key: "bn-stats", values: "class|running",
                meaning: "What the batch-norm prior compares with: per-class statistics (from synth stats) or the layers' running statistics over all classes.",
                apply: { $0.bnStatistics = try choice($1, $2) }, shown: { $0.bnStatistics.rawValue }),
        Setting(key: "blur", values: "SIGMA", meaning: "Gaussian blur of the image's gradient before each step, sigma in pixels; 0 = off.",
                apply: { $0.blurSigma = try float($1, $2) }, shown: { String($0.blurSigma) }),
        Setting(key: "noise", values: "X",
                meaning: "Gaussian noise added to the image after each step, falling to 0 at noise-until (in logits with param=sigmoid); samples wander to other shapes of their class.",
                apply: { $0.noise = try float($1, $2) }, shown: { String($0.noise) }),
        Setting(key: "noise-until", values: "X", meaning: "The share of the run, in (0, 1], after which no noise is added.",
                apply: { $0.noiseUntil = try float($1, $2) }, shown: { String(format: "%.3g", $0.noiseUntil) }),
        Setting(key: "jitter", values: "N", meaning: "Random shift of the whole batch by up to N pixels each step; 0 = off.",
                apply: { $0.jitter = try int($1, $2) }, shown: { String($0.jitter) }),
        Setting(key: "param", values: "sigmoid|clamp",
                meaning: "How the optimised tensor becomes pixels: its sigmoid, or itself clamped to [0, 1] after each step.",
                apply: { $0.parameterization = try choice($1, $2) }, shown: { $0.parameterization.rawValue }),
        Setting(key: "init-pixel", values: "X", meaning: "The pixel value the images start from.",
                apply: { $0.initPixel = try float($1, $2) }, shown: { String($0.initPixel) }),
        Setting(key: "init-spread", values: "X", meaning: "Random spread of the starting images (in logits with param=sigmoid).",
                apply: { $0.initSpread = try float($1, $2) }, shown: { String($0.initSpread) }),
        Setting(key: "batch", values: "N", meaning: "Candidates optimised together (the diversity and distribution losses compare them).",
                apply: { $0.batchSize = try int($1, $2) }, shown: { String($0.batchSize) }),
        Setting(key: "ensemble", values: "C2.safetensors[,C3...]", meaning: "More classifiers to invert with the first; their losses are summed.",
                apply: { _, _, _ in }, shown: nil),
    ]

    private static let settings = Dictionary(uniqueKeysWithValues: settingTable.map { ($0.key, $0) })

    public static var optionKeys: Set<String> { Set(settings.keys) }

    /// The setting with this key (a programming error if there is none).
    public static func setting(_ key: String) -> Setting {
        guard let s = settings[key] else { preconditionFailure("no CaG setting '\(key)'") }
        return s
    }

    /// Every setting with its values, default and meaning, wrapped to `width` columns: the list
    /// `synth help build` shows (79: the help re-wraps lines of 80 or more on an 80-column terminal).
    public static func settingsHelp(width: Int = 79) -> String {
        let defaults = CaGConfig()
        return settingTable.map { s in
            let head = "  \(s.key)=\(s.values)" + (s.value(in: defaults).map { "   (default \($0))" } ?? "")
            return ([head] + wrap(s.meaning, width: width - 6).map { "      " + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Words of `text` in lines of at most `width` characters (a longer word gets its own line).
    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        return line.isEmpty ? lines : lines + [line]
    }

    /// Defaults overridden by `options`; unknown keys and malformed values are errors.
    public init(options: [String: String]) throws {
        self.init()
        for key in options.keys.sorted() {
            guard let setting = CaGConfig.settings[key] else {
                throw SynthError("unknown CaG setting '\(key)' (known: \(CaGConfig.optionKeys.sorted().joined(separator: ", ")))")
            }
            try setting.apply(&self, key, options[key]!)
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
