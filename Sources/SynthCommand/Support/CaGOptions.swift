import ArgumentParser
import Foundation
import Synth

/// The CaG sampler's switches, shared by every command that runs CaG (`build --source cag`, the
/// benchmark, the experiment driver). Unset options keep `CaGConfig`'s defaults.
struct CaGOptions: ParsableArguments {
    static let defaults = CaGConfig()

    @Flag(help: "Optimise x through the classifier alone, without the reconstruction module g.")
    var noReconstructor = false
    @Flag(inversion: .prefixedNo, help: "Progressive resolution (side/4 -> side/2 -> side).")
    var progressive = CaGOptions.defaults.progressive
    @Option(help: ArgumentHelp("Explicit stage sides, coarse to fine, e.g. 7,14,28 (overrides --progressive).", valueName: "SIDES"))
    var resolutions: String?
    @Option(name: .customLong("steps"), help: ArgumentHelp("Adam steps per stage: one count, or one per stage (e.g. 60,60,80). Default \(CaGOptions.defaults.stepsPerStage.map(String.init).joined(separator: ",")).", valueName: "N[,N...]"))
    var stepsPerStage: String?
    @Option(help: "Adam learning rate on x. Default \(CaGOptions.defaults.learningRate).") var lr: Float?
    @Option(help: "Adam beta1 on x. Default \(CaGOptions.defaults.beta1).") var beta1: Float?
    @Option(name: .customLong("blur"), help: ArgumentHelp("Gaussian blur of x's gradient, sigma in pixels (0 = off). Default \(CaGOptions.defaults.blurSigma).", valueName: "SIGMA"))
    var blurSigma: Float?
    @Option(help: "Weight of the diversity (distance-metric) loss, eq. 4. Default \(CaGOptions.defaults.lambdaDiv).") var lambdaDiv: Float?
    @Option(help: "Weight of the distribution loss, eq. 6 (needs synth stats). Default \(CaGOptions.defaults.lambdaDist).") var lambdaDist: Float?
    @Flag(inversion: .prefixedNo, help: "DeepInversion's batch-norm statistics prior (weight --lambda-bn).")
    var bnLoss = CaGOptions.defaults.lambdaBN > 0
    @Option(help: "Weight of the batch-norm prior when on. Default \(CaGOptions.defaults.lambdaBN > 0 ? CaGOptions.defaults.lambdaBN : 0.05).") var lambdaBn: Float?
    @Option(help: "Batch-norm targets: class (per-class statistics from synth stats) or running. Default \(CaGOptions.defaults.bnStatistics.rawValue).")
    var bnStats: String?
    @Option(help: "Pixel parameterisation: sigmoid or clamp. Default \(CaGOptions.defaults.parameterization.rawValue).") var param: String?
    @Option(help: "What a sample is: x (the optimised image) or reconstruction (g(x) averaged over masks). Default \(CaGOptions.defaults.output.rawValue).")
    var emit: String?
    @Option(help: "Masks the emitted reconstruction is averaged over. Default \(CaGOptions.defaults.outputMasks).") var outputMasks: Int?
    @Option(help: "Random shift of the batch by up to this many pixels each step. Default \(CaGOptions.defaults.jitter).") var jitter: Int?
    @Option(help: "Initial pixel value. Default \(CaGOptions.defaults.initPixel).") var initPixel: Float?
    @Option(help: "Initial spread (logits with the sigmoid). Default \(CaGOptions.defaults.initSpread).") var initSpread: Float?
    @Option(help: "Candidates optimised jointly. Default \(CaGOptions.defaults.batchSize).") var cagBatch: Int?

    func config() throws -> CaGConfig {
        var c = CaGOptions.defaults
        c.useReconstructor = !noReconstructor
        c.progressive = progressive
        if let r = resolutions { c.resolutions = try ints(r, "--resolutions") }
        if let s = stepsPerStage { c.stepsPerStage = try ints(s, "--steps") }
        if let lr { c.learningRate = lr }
        if let beta1 { c.beta1 = beta1 }
        if let blurSigma { c.blurSigma = blurSigma }
        if let lambdaDiv { c.lambdaDiv = lambdaDiv }
        if let lambdaDist { c.lambdaDist = lambdaDist }
        c.lambdaBN = bnLoss ? (lambdaBn ?? (c.lambdaBN > 0 ? c.lambdaBN : 0.05)) : 0
        if let bnStats {
            guard let v = CaGConfig.BNStatistics(rawValue: bnStats) else { throw ValidationError("--bn-stats must be class or running") }
            c.bnStatistics = v
        }
        if let param {
            guard let v = CaGConfig.Parameterization(rawValue: param) else { throw ValidationError("--param must be sigmoid or clamp") }
            c.parameterization = v
        }
        if let emit {
            guard let v = CaGConfig.Output(rawValue: emit) else { throw ValidationError("--emit must be x or reconstruction") }
            c.output = v
        }
        if let outputMasks { c.outputMasks = outputMasks }
        if let jitter { c.jitter = jitter }
        if let initPixel { c.initPixel = initPixel }
        if let initSpread { c.initSpread = initSpread }
        if let cagBatch { c.batchSize = cagBatch }
        if c.output == .reconstruction && !c.useReconstructor { c.output = .x }
        return c
    }

    private func ints(_ text: String, _ flag: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { throw ValidationError("\(flag) takes comma-separated integers, got '\(text)'") }
        return parts.map { $0! }
    }
}
