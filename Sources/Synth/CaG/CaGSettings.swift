import Engine
import Foundation

/// CaG's settings as text KEY=VALUE pairs, as `synth build --source-option` passes them and the
/// manifest records them. Keys are the command-line flags without dashes:
///   steps=N[,N...]  lr=X  beta1=X  blur=SIGMA  lambda-div=X  lambda-dist=X  lambda-rec=X  lambda-target=X  bn-loss=X (0 = off)
///   bn-stats=class|running  param=sigmoid|clamp  emit=x|reconstruction  output-masks=N
///   view=reconstruction|image|both  jitter=N  noise=X  init-pixel=X  init-spread=X  batch=N  progressive=true|false  resolutions=7,14,28
///   reconstructor=true|false  ensemble=C2.safetensors[,C3...] (more classifiers to invert)
extension CaGConfig {
    public static let optionKeys: Set<String> = [
        "steps", "lr", "beta1", "blur", "lambda-div", "lambda-dist", "lambda-rec", "lambda-target", "bn-loss", "bn-stats", "param", "emit",
        "output-masks", "jitter", "init-pixel", "init-spread", "batch", "progressive", "resolutions", "reconstructor", "ensemble", "view", "noise",
    ]

    /// Defaults overridden by `options`; unknown keys and malformed values are errors.
    public init(options: [String: String]) throws {
        self.init()
        for key in options.keys.sorted() where !CaGConfig.optionKeys.contains(key) {
            throw SynthError("unknown CaG setting '\(key)' (known: \(CaGConfig.optionKeys.sorted().joined(separator: ", ")))")
        }
        func float(_ key: String) throws -> Float? {
            guard let text = options[key] else { return nil }
            guard let v = Float(text), v.isFinite else { throw SynthError("CaG setting \(key)=\(text): not a number") }
            return v
        }
        func int(_ key: String) throws -> Int? {
            guard let text = options[key] else { return nil }
            guard let v = Int(text) else { throw SynthError("CaG setting \(key)=\(text): not an integer") }
            return v
        }
        func ints(_ key: String) throws -> [Int]? {
            guard let text = options[key] else { return nil }
            let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { throw SynthError("CaG setting \(key)=\(text): expected integers N[,N...]") }
            return parts.map { $0! }
        }
        func bool(_ key: String) throws -> Bool? {
            guard let text = options[key] else { return nil }
            switch text.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw SynthError("CaG setting \(key)=\(text): expected true or false")
            }
        }
        func choice<T: RawRepresentable>(_ key: String, _ type: T.Type) throws -> T? where T.RawValue == String, T: CaseIterable {
            guard let text = options[key] else { return nil }
            guard let v = T(rawValue: text) else {
                throw SynthError("CaG setting \(key)=\(text): expected \(T.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            return v
        }
        if let v = try ints("steps") { stepsPerStage = v }
        if let v = try float("lr") { learningRate = v }
        if let v = try float("beta1") { beta1 = v }
        if let v = try float("blur") { blurSigma = v }
        if let v = try float("lambda-div") { lambdaDiv = v }
        if let v = try float("lambda-dist") { lambdaDist = v }
        if let v = try float("lambda-rec") { lambdaRec = v }
        if let v = try float("lambda-target") { lambdaTarget = v }
        if let v = try float("bn-loss") { lambdaBN = v }
        if let v = try choice("bn-stats", BNStatistics.self) { bnStatistics = v }
        if let v = try choice("param", Parameterization.self) { parameterization = v }
        if let v = try choice("emit", Output.self) { output = v }
        if let v = try choice("view", View.self) { view = v }
        if let v = try int("output-masks") { outputMasks = v }
        if let v = try int("jitter") { jitter = v }
        if let v = try float("noise") { noise = v }
        if let v = try float("init-pixel") { initPixel = v }
        if let v = try float("init-spread") { initSpread = v }
        if let v = try int("batch") { batchSize = v }
        if let v = try bool("progressive") { progressive = v }
        if let v = try ints("resolutions") { resolutions = v }
        if let v = try bool("reconstructor") { useReconstructor = v }
        // Ablations switch g off; the reconstruction cannot be emitted then.
        if !useReconstructor && output == .reconstruction { output = .x }
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
