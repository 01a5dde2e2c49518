import Engine
import Foundation
import Support

/// A type a CaG setting holds: read from the text of KEY=VALUE and printed back in the same form,
/// which is the form the manifest's source summary records.
public protocol CaGSettingValue: Sendable {
    /// The values the key takes, as help shows them.
    static var syntax: String { get }
    /// What a malformed value should have been, for the error.
    static var expected: String { get }
    init?(settingText: String)
    var settingText: String { get }
}

extension Float: CaGSettingValue {
    public static var syntax: String { "X" }
    public static var expected: String { "a number" }
    public init?(settingText: String) {
        guard let v = Float(settingText), v.isFinite else { return nil }
        self = v
    }
    public var settingText: String { String(self) }
}

extension Int: CaGSettingValue {
    public static var syntax: String { "N" }
    public static var expected: String { "an integer" }
    public init?(settingText: String) { self.init(settingText) }
    public var settingText: String { String(self) }
}

extension Bool: CaGSettingValue {
    public static var syntax: String { "true|false" }
    public static var expected: String { "true or false" }
    public init?(settingText: String) {
        switch settingText.lowercased() {
        case "true", "1", "yes", "on": self = true
        case "false", "0", "no", "off": self = false
        default: return nil
        }
    }
    public var settingText: String { String(self) }
}

extension Array: CaGSettingValue where Element == Int {
    public static var syntax: String { "N[,N...]" }
    public static var expected: String { "integers N[,N...]" }
    /// The empty text is the empty list, as the summary prints it (`resolutions` unset).
    public init?(settingText: String) {
        if settingText.isEmpty { self = []; return }
        let parts = settingText.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        self = parts.map { $0! }
    }
    public var settingText: String { map(String.init).joined(separator: ",") }
}

/// The choices of an enumerated setting are its raw values.
public protocol CaGSettingChoice: CaGSettingValue, RawRepresentable, CaseIterable where RawValue == String {}

extension CaGSettingChoice {
    public static var syntax: String { allCases.map(\.rawValue).joined(separator: "|") }
    public static var expected: String { allCases.map(\.rawValue).joined(separator: " or ") }
    public init?(settingText: String) { self.init(rawValue: settingText) }
    public var settingText: String { rawValue }
}

extension CaGConfig.View: CaGSettingChoice {}
extension CaGConfig.Output: CaGSettingChoice {}
extension CaGConfig.BNStatistics: CaGSettingChoice {}
extension CaGConfig.Parameterization: CaGSettingChoice {}

/// CaG's settings as text KEY=VALUE pairs, as `--source-option` passes them (to `synth build` and
/// `synth cag-priors`) and the manifest's source summary records them. `settingTable` is the one
/// list of them: each row's key is the option key and the summary key, its field is the key in
/// camelCase, and help, parsing and printing all come from the row.
extension CaGConfig {
    /// One setting: its key, the keys it had before issue 17 gave each setting one spelling (still
    /// accepted, so older scripts run), the values it takes, what it does in plain words, and the
    /// field it sets (nil: it is read by CaGSource.make, not kept here).
    public struct Setting: Sendable {
        public let key: String
        public let formerKeys: [String]
        public let values: String
        public let meaning: String
        let assign: (@Sendable (inout CaGConfig, _ given: String, _ text: String) throws -> Void)?
        let show: (@Sendable (CaGConfig) -> String)?

        init<Value: CaGSettingValue>(_ key: String, _ field: WritableKeyPath<CaGConfig, Value> & Sendable,
                                     formerly formerKeys: [String] = [], _ meaning: String) {
            self.key = key; self.formerKeys = formerKeys; self.values = Value.syntax; self.meaning = meaning
            assign = { config, given, text in
                guard let value = Value(settingText: text) else { throw SynthError("CaG setting \(given)=\(text): expected \(Value.expected)") }
                config[keyPath: field] = value
            }
            show = { $0[keyPath: field].settingText }
        }

        /// A setting without a field here.
        init(_ key: String, values: String, _ meaning: String) {
            self.key = key; formerKeys = []; self.values = values; self.meaning = meaning
            assign = nil; show = nil
        }

        /// This setting's value in `config`, as its key takes it (nil when it has no field here).
        public func value(in config: CaGConfig) -> String? { show?(config) }
    }

    /// Every setting, in the order help lists them (and the fields are declared).
    public static let settingTable: [Setting] = [
        Setting("steps_per_stage", \.stepsPerStage, formerly: ["steps"], "Adam steps per resolution stage: one count for every stage, or one per stage."),
        Setting("lr", \.lr, "Adam's learning rate on the image."),
        Setting("beta1", \.beta1, "Adam's momentum; lower values follow the random masks less stubbornly."),
        Setting("progressive", \.progressive, "Progressive resolution: optimise the image at a quarter, then half, then full size (7, 14, 28 px for Fashion-MNIST)."),
        Setting("resolutions", \.resolutions, "Explicit stage sizes in pixels, coarse to fine (overrides progressive)."),
        Setting("reconstructor", \.reconstructor, "Optimise the image through the reconstruction module (a masked autoencoder that redraws hidden patches); false inverts the classifier alone."),
        Setting("view", \.view, "What the classifiers judge: the reconstruction module's version of the image, the image itself, or both."),
        Setting("output", \.output, formerly: ["emit"], "A sample is the optimised image (x), or the reconstruction module's version of it averaged over output_masks random masks."),
        Setting("output_masks", \.outputMasks, formerly: ["output-masks"], "Random masks the emitted reconstruction is averaged over."),
        Setting("lambda_div", \.lambdaDiv, formerly: ["lambda-div"], "Weight of the diversity loss, which pushes samples of a class apart in the classifier's features."),
        Setting("lambda_dist", \.lambdaDist, formerly: ["lambda-dist"], "Weight of the distribution loss: a batch's feature mean and spread against the class's (needs the classifier's .stats.safetensors, from synth stats)."),
        Setting("lambda_target", \.lambdaTarget, formerly: ["lambda-target"], "Weight of the feature-target loss: each sample is pulled to its own random draw from the class's feature statistics (needs .stats.safetensors)."),
        Setting("lambda_rec", \.lambdaRec, formerly: ["lambda-rec"], "Weight of the reconstruction prior: the reconstruction module's error on the image's hidden patches, so images stay ones it can redraw."),
        Setting("lambda_bn", \.lambdaBn, formerly: ["bn-loss"], "Weight of the batch-norm prior: a batch's channel statistics at each batch-norm layer against the training data's; 0 = off."),
        Setting("bn_statistics", \.bnStatistics, formerly: ["bn-stats"], "What the batch-norm prior compares with: per-class statistics (from synth stats) or the layers' running statistics over all classes."),
        Setting("lambda_tv", \.lambdaTv, formerly: ["lambda-tv"], "Weight of the smoothness (total variation) prior on the image."),
        Setting("blur_sigma", \.blurSigma, formerly: ["blur"], "Gaussian blur of the image's gradient before each step, sigma in pixels; 0 = off."),
        Setting("noise", \.noise, "Gaussian noise added to the image after each step, falling to 0 at noise_until (in logits with parameterization=sigmoid); samples wander to other shapes of their class."),
        Setting("noise_until", \.noiseUntil, formerly: ["noise-until"], "The share of the run, in (0, 1], after which no noise is added."),
        Setting("jitter", \.jitter, "Random shift of the whole batch by up to N pixels each step; 0 = off."),
        Setting("parameterization", \.parameterization, formerly: ["param"], "How the optimised tensor becomes pixels: its sigmoid, or itself clamped to [0, 1] after each step."),
        Setting("init_pixel", \.initPixel, formerly: ["init-pixel"], "The pixel value the images start from."),
        Setting("init_spread", \.initSpread, formerly: ["init-spread"], "Random spread of the starting images (in logits with parameterization=sigmoid)."),
        Setting("batch", \.batch, "Candidates optimised together (the diversity and distribution losses compare them)."),
        Setting("ensemble", values: "C2.safetensors[,C3...]", "More classifiers to invert with the first; their losses are summed."),
    ]

    /// Each setting under its key and under each of its former keys.
    private static let settingsByKey = Dictionary(uniqueKeysWithValues: settingTable.flatMap { s in ([s.key] + s.formerKeys).map { ($0, s) } })

    public static var optionKeys: Set<String> { Set(settingTable.map(\.key)) }

    /// Every setting with its values, default and meaning, wrapped to `width` columns: the list
    /// `synth help build` shows (79: the help re-wraps lines of 80 or more on an 80-column terminal).
    public static func settingsHelp(width: Int = 79) -> String {
        let defaults = CaGConfig()
        return settingTable.map { s in
            let notes = (s.value(in: defaults).map { ["default \($0.isEmpty ? "none" : $0)"] } ?? [])
                + (s.formerKeys.isEmpty ? [] : ["formerly " + s.formerKeys.joined(separator: ", ")])
            let head = "  \(s.key)=\(s.values)" + (notes.isEmpty ? "" : "   (" + notes.joined(separator: "; ") + ")")
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

    /// Defaults overridden by `options` (keys or former keys); unknown keys, a setting given twice
    /// and malformed values are errors.
    public init(options: [String: String]) throws {
        self.init()
        var given: [String: String] = [:]
        for key in options.keys.sorted() {
            guard let setting = CaGConfig.settingsByKey[key] else {
                throw SynthError("unknown CaG setting '\(key)' (known: \(CaGConfig.optionKeys.sorted().joined(separator: ", ")))")
            }
            if let other = given[setting.key] { throw SynthError("CaG setting \(setting.key) given twice (as \(other) and \(key))") }
            given[setting.key] = key
            try setting.assign?(&self, key, options[key]!)
        }
        // Ablations switch g off; the reconstruction cannot be emitted then.
        if !reconstructor && output == .reconstruction { output = .x }
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
        if config.reconstructor {
            let path = reconstructor ?? inModels(defaultReconstructorFile)
            guard FileManager.default.fileExists(atPath: path) else {
                throw SynthError.file(path, "no such reconstructor (train one with synth train-mae, or run scripts/make-models)")
            }
            recon = path
        }
        return try CaGSource(classifiers: classifiers, reconstructor: recon, config: config)
    }
}
