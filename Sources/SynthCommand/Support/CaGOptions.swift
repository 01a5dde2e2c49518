import ArgumentParser
import Engine
import Foundation
import Synth

/// The CaG sampler's switches as command-line flags, shared by every command that runs CaG
/// (`build --source cag`, the experiment driver). Each flag set becomes a KEY=VALUE source option
/// (the same keys `--source-option` takes, see CaGConfig.optionKeys); unset ones keep the defaults.
struct CaGOptions: ParsableArguments {
    static let defaults = CaGConfig()

    @Flag(help: "Optimise x through the classifier alone, without the reconstruction module g.")
    var noReconstructor = false
    @Flag(inversion: .prefixedNo, help: "Progressive resolution, side/4 -> side/2 -> side (default on).")
    var progressive: Bool?
    @Option(help: ArgumentHelp("Explicit stage sides, coarse to fine (overrides --progressive).", valueName: "7,14,28"))
    var resolutions: String?
    @Option(help: ArgumentHelp("Adam steps per stage: one count, or one per stage. Default \(defaults.stepsPerStage.map(String.init).joined(separator: ",")).", valueName: "N[,N...]"))
    var steps: String?
    @Option(help: "Adam learning rate on x. Default \(defaults.learningRate).") var lr: Float?
    @Option(help: "Adam beta1 on x. Default \(defaults.beta1).") var beta1: Float?
    @Option(help: ArgumentHelp("Gaussian blur of x's gradient, sigma in pixels; 0 = off. Default \(defaults.blurSigma).", valueName: "SIGMA"))
    var blur: Float?
    @Option(help: "Weight of the diversity (distance-metric) loss, eq. 4. Default \(defaults.lambdaDiv).") var lambdaDiv: Float?
    @Option(help: "Weight of the distribution loss, eq. 6 (needs synth stats). Default \(defaults.lambdaDist).") var lambdaDist: Float?
    @Option(help: "Weight of the feature-target loss (each sample aims at its own draw from N(mu_c, sigma_c); needs synth stats). Default \(defaults.lambdaTarget).") var lambdaTarget: Float?
    @Option(help: "Weight of the reconstruction-consistency prior (g's error on x's hidden patches). Default \(defaults.lambdaRec).") var lambdaRec: Float?
    @Option(help: "Weight of the total-variation (smoothness) prior on the image. Default \(defaults.lambdaTV).") var lambdaTv: Float?
    @Option(help: ArgumentHelp("Weight of DeepInversion's batch-norm statistics prior; 0 = off. Default \(defaults.lambdaBN).", valueName: "WEIGHT"))
    var bnLoss: Float?
    @Option(help: "Batch-norm targets: class (per-class, from synth stats) or running. Default \(defaults.bnStatistics.rawValue).") var bnStats: String?
    @Option(help: "Pixel parameterisation: sigmoid or clamp. Default \(defaults.parameterization.rawValue).") var param: String?
    @Option(help: "A sample is x (the optimised image) or reconstruction (g(x) averaged over masks). Default \(defaults.output.rawValue).")
    var emit: String?
    @Option(help: "What the classifiers judge: reconstruction (f(g(x)), eq. 3), image (f(x)) or both. Default \(defaults.view.rawValue).") var view: String?
    @Option(help: "Masks the emitted reconstruction is averaged over. Default \(defaults.outputMasks).") var outputMasks: Int?
    @Option(help: "Random shift of the batch by up to this many pixels each step. Default \(defaults.jitter).") var jitter: Int?
    @Option(help: "Gaussian noise added to x after each step, annealed to 0 (logits with the sigmoid). Default \(defaults.noise).") var noise: Float?
    @Option(help: "Share of the run over which the noise anneals to 0 (noise-free steps after it). Default \(defaults.noiseUntil).") var noiseUntil: Float?
    @Option(help: "Initial pixel value. Default \(defaults.initPixel).") var initPixel: Float?
    @Option(help: "Initial spread (logits with the sigmoid). Default \(defaults.initSpread).") var initSpread: Float?
    @Option(help: "Candidates optimised jointly. Default \(defaults.batchSize).") var cagBatch: Int?
    @Option(parsing: .singleValue, help: "More classifiers to invert with the first (an ensemble sums their losses).") var ensemble: [String] = []

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
