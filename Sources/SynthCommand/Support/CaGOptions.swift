import ArgumentParser
import Foundation
import Synth

/// The CaG sampler's switches as command-line flags, shared by every command that runs CaG
/// (`build --source cag`, the experiment driver). Each flag set becomes a KEY=VALUE source option
/// (the same keys `--source-option` takes, see CaGConfig.optionKeys); unset ones keep the defaults.
struct CaGOptions: ParsableArguments {
    static let defaults = CaGConfig()

    /// A flag's help: its setting's meaning and default, from CaG's one settings table.
    static func help(_ key: String, valueName: String? = nil) -> ArgumentHelp {
        let setting = CaGConfig.setting(key)
        let text = setting.meaning + (setting.value(in: defaults).map { " Default \($0)." } ?? "")
        return ArgumentHelp(text, valueName: valueName)
    }

    @Flag(help: "Optimise x through the classifier alone, without the reconstruction module (reconstructor=false).")
    var noReconstructor = false
    @Flag(inversion: .prefixedNo, help: CaGOptions.help("progressive")) var progressive: Bool?
    @Option(help: CaGOptions.help("resolutions", valueName: "7,14,28")) var resolutions: String?
    @Option(help: CaGOptions.help("steps", valueName: "N[,N...]")) var steps: String?
    @Option(help: CaGOptions.help("lr")) var lr: Float?
    @Option(help: CaGOptions.help("beta1")) var beta1: Float?
    @Option(help: CaGOptions.help("blur", valueName: "SIGMA")) var blur: Float?
    @Option(help: CaGOptions.help("lambda-div")) var lambdaDiv: Float?
    @Option(help: CaGOptions.help("lambda-dist")) var lambdaDist: Float?
    @Option(help: CaGOptions.help("lambda-target")) var lambdaTarget: Float?
    @Option(help: CaGOptions.help("lambda-rec")) var lambdaRec: Float?
    @Option(help: CaGOptions.help("lambda-tv")) var lambdaTv: Float?
    @Option(help: CaGOptions.help("bn-loss", valueName: "WEIGHT")) var bnLoss: Float?
    @Option(help: CaGOptions.help("bn-stats")) var bnStats: String?
    @Option(help: CaGOptions.help("param")) var param: String?
    @Option(help: CaGOptions.help("emit")) var emit: String?
    @Option(help: CaGOptions.help("view")) var view: String?
    @Option(help: CaGOptions.help("output-masks")) var outputMasks: Int?
    @Option(help: CaGOptions.help("jitter")) var jitter: Int?
    @Option(help: CaGOptions.help("noise")) var noise: Float?
    @Option(help: CaGOptions.help("noise-until")) var noiseUntil: Float?
    @Option(help: CaGOptions.help("init-pixel")) var initPixel: Float?
    @Option(help: CaGOptions.help("init-spread")) var initSpread: Float?
    @Option(help: CaGOptions.help("batch")) var cagBatch: Int?
    @Option(parsing: .singleValue, help: CaGOptions.help("ensemble")) var ensemble: [String] = []

    /// The flags given, as CaG source options.
    var sourceOptions: [String: String] {
        var o: [String: String] = [:]
        if noReconstructor { o["reconstructor"] = "false" }
        if let progressive { o["progressive"] = String(progressive) }
        if let resolutions { o["resolutions"] = resolutions }
        if let steps { o["steps"] = steps }
        if let lr { o["lr"] = String(lr) }
        if let beta1 { o["beta1"] = String(beta1) }
        if let blur { o["blur"] = String(blur) }
        if let lambdaDiv { o["lambda-div"] = String(lambdaDiv) }
        if let lambdaDist { o["lambda-dist"] = String(lambdaDist) }
        if let lambdaTarget { o["lambda-target"] = String(lambdaTarget) }
        if let lambdaRec { o["lambda-rec"] = String(lambdaRec) }
        if let lambdaTv { o["lambda-tv"] = String(lambdaTv) }
        if let bnLoss { o["bn-loss"] = String(bnLoss) }
        if let bnStats { o["bn-stats"] = bnStats }
        if let param { o["param"] = param }
        if let emit { o["emit"] = emit }
        if let view { o["view"] = view }
        if let outputMasks { o["output-masks"] = String(outputMasks) }
        if let jitter { o["jitter"] = String(jitter) }
        if let noise { o["noise"] = String(noise) }
        if let noiseUntil { o["noise-until"] = String(noiseUntil) }
        if let initPixel { o["init-pixel"] = String(initPixel) }
        if let initSpread { o["init-spread"] = String(initSpread) }
        if let cagBatch { o["batch"] = String(cagBatch) }
        if !ensemble.isEmpty { o["ensemble"] = ensemble.joined(separator: ",") }
        return o
    }

    func config() throws -> CaGConfig { try CaGConfig(options: sourceOptions) }
}
