/// Every switch of the CaG sampler, so each of the paper's parts (and each extra prior) can be
/// turned off or on and measured on its own. Defaults are the measured best (BENCHMARKS.md,
/// "CaG sampler" and "Dataset quality per source").
public struct CaGConfig: Sendable, Equatable {
    /// How the optimised tensor becomes pixels in [0, 1].
    public enum Parameterization: String, Sendable, CaseIterable {
        /// pixels = sigmoid(x): always valid, gradients fade at saturated pixels.
        case sigmoid
        /// pixels = x, clamped to [0, 1] after every step (the paper's and DeepInversion's way).
        case clamp
    }

    /// What a sample is: the optimised image itself, or the reconstruction module's view of it.
    public enum Output: String, Sendable, CaseIterable {
        /// x, the optimised image (upsampled to full size if the last stage is smaller).
        case x
        /// g(x) averaged over `outputMasks` random masks: the module's plausible version of x.
        case reconstruction
    }

    /// What the classifiers judge (their cross-entropy and feature priors), when g is in use.
    public enum View: String, Sendable, CaseIterable {
        /// f(g(x)): the paper's eq. 3.
        case reconstruction
        /// f(x): the image itself (g then acts only through the consistency prior).
        case image
        /// Both, their losses summed.
        case both
    }

    /// What the batch-norm prior matches a batch's channel statistics to.
    public enum BNStatistics: String, Sendable, CaseIterable {
        /// The per-class statistics of each layer's input on the training data (from `synth stats`):
        /// right for the one-class batches the sampler makes.
        case perClass = "class"
        /// The layers' running statistics (DeepInversion's choice; all classes mixed).
        case running
    }

    // The fields follow `settingTable`'s order (the order help lists them), and each is named as
    // its setting's key in camelCase: `lambda_bn` is `lambdaBn`, and so on.

    /// Adam steps per stage: one value for every stage, or one per stage.
    public var stepsPerStage: [Int] = [70]
    public var lr: Float = 0.05
    /// Adam's beta1 (momentum); lower values follow the stochastic masks less stubbornly.
    public var beta1: Float = 0.9
    /// Progressive resolution (§3.3): optimise x at side/4, then side/2, then full size, upsampling
    /// x between stages and to the classifier's input size every step.
    public var progressive = true
    /// Explicit stage sides, coarse to fine, overriding `progressive` when not empty.
    public var resolutions: [Int] = []
    /// Put the mask-based stochastic reconstruction module g in front of the classifier (eq. 3).
    public var reconstructor = true
    public var view: View = .image
    public var output: Output = .x
    /// Masks the emitted reconstruction is averaged over.
    public var outputMasks = 8
    /// Weight of the distance-metric (diversity) loss, eq. 4 (cosine similarity of same-class h).
    public var lambdaDiv: Float = 0.1
    /// Weight of the distribution loss, eq. 6 (batch mean and std of h against mu_c, sigma_c).
    public var lambdaDist: Float = 0
    /// Weight of the feature-target loss: each sample is pulled towards its own feature vector drawn
    /// from N(mu_c, sigma_c) (the statistics of eq. 6), a per-sample form of the distribution loss; 0 = off.
    public var lambdaTarget: Float = 0
    /// Weight of the reconstruction-consistency prior: the masked autoencoder's error on x's hidden
    /// patches, so x becomes an image g can predict from its own visible parts (a learned
    /// natural-image prior, as in regularisation by denoising); 0 = off.
    public var lambdaRec: Float = 5
    /// Weight of the batch-norm statistics prior (DeepInversion); 0 = off.
    public var lambdaBn: Float = 0.1
    public var bnStatistics: BNStatistics = .perClass
    /// Weight of the total-variation prior (DeepInversion's smoothness prior on the image); 0 = off.
    public var lambdaTv: Float = 0
    /// Gaussian blur of x's gradient before each step, in pixels of the current stage (§4.3); 0 = off.
    public var blurSigma: Float = 0
    /// Standard deviation of Gaussian noise added to x after every step, annealed linearly to 0
    /// by `noiseUntil` of the run (in the parameter's units: logits with the sigmoid); 0 = off.
    /// Default 0.6: the strongest single lever measured (CAS of 2,000 unfiltered samples 73.6% ->
    /// 81.2%; 0.3 gave 79.7%, 1.0 73.4%); samples wander to other poses and shapes of their class.
    public var noise: Float = 0.6
    /// The share of the run over which the noise anneals to 0; the steps after it are noise-free,
    /// so samples settle where the classifier is sure of them (1 = noise until the last step).
    /// Default 2/3: the coarse stages explore, the full-resolution stage settles, and the filter
    /// keeps 81% of the samples instead of 71% at the same CAS (BENCHMARKS.md).
    public var noiseUntil: Float = 2.0 / 3.0
    /// Random shift of the whole batch by up to this many pixels every step (0 = off).
    public var jitter = 0
    public var parameterization: Parameterization = .sigmoid
    /// Initial x: pixels around this value (after the parameterisation), with this spread.
    public var initPixel: Float = 0.5
    public var initSpread: Float = 1
    /// Candidates optimised jointly (the diversity and distribution losses couple them).
    public var batch = 64

    public init() {}

    /// The stage sides for an image of side `side`: the explicit ones, or with `progressive`
    /// side/4, side/2, side (7 -> 14 -> 28 for Fashion-MNIST, 8 -> 16 -> 32 for CIFAR), else side.
    public func stages(forSide side: Int) -> [Int] {
        if !resolutions.isEmpty { return resolutions }
        return progressive ? CaGConfig.progressive(side: side) : [side]
    }

    public static func progressive(side: Int) -> [Int] {
        side % 4 == 0 ? [side / 4, side / 2, side] : [side]
    }

    public func steps(stage: Int) -> Int {
        stepsPerStage.count == 1 ? stepsPerStage[0] : stepsPerStage[stage]
    }

    public func totalSteps(side: Int) -> Int {
        (0..<stages(forSide: side).count).reduce(0) { $0 + steps(stage: $1) }
    }

    /// The noise after step `step` (0-based) of `totalSteps`: annealed Langevin-style, `noise` at the
    /// start falling linearly to 0 at `noiseUntil` of the run, so early steps wander between basins
    /// and late ones settle.
    public func noiseSigma(step: Int, totalSteps: Int) -> Float {
        let noisy = Int((Float(totalSteps) * noiseUntil).rounded())
        guard noise > 0, step < noisy else { return 0 }
        return noise * (1 - Float(step) / Float(noisy))
    }

    /// Problems with the settings, for the command line to report (nil when valid).
    public func problem(imageSide side: Int) -> String? {
        let stages = stages(forSide: side)
        if stages.contains(where: { $0 < 1 || $0 > side }) { return "resolutions must lie in 1...\(side), got \(stages)" }
        if zip(stages, stages.dropFirst()).contains(where: { $0 > $1 }) { return "resolutions must not decrease, got \(stages)" }
        if stepsPerStage.isEmpty || stepsPerStage.contains(where: { $0 < 1 }) { return "steps per stage must be at least 1" }
        if stepsPerStage.count != 1 && stepsPerStage.count != stages.count {
            return "give one step count, or one per stage (\(stages.count)), got \(stepsPerStage.count)"
        }
        if !(lr > 0) { return "the learning rate must be positive" }
        if !(beta1 >= 0 && beta1 < 1) { return "beta1 must be in [0, 1)" }
        if blurSigma < 0 || lambdaDiv < 0 || lambdaDist < 0 || lambdaBn < 0 || lambdaRec < 0 || lambdaTarget < 0 || lambdaTv < 0 || noise < 0 { return "loss weights and blur must not be negative" }
        if !(noiseUntil > 0 && noiseUntil <= 1) { return "noise_until must lie in (0, 1]" }
        if outputMasks < 1 { return "output masks must be at least 1" }
        if jitter < 0 || 2 * jitter >= side { return "jitter must be in 0..<\(side / 2)" }
        if batch < 1 { return "the batch must be at least 1" }
        if parameterization == .sigmoid && !(initPixel > 0 && initPixel < 1) { return "the initial pixel must lie in (0, 1) with a sigmoid" }
        if output == .reconstruction && !reconstructor { return "emitting the reconstruction needs the reconstruction module" }
        return nil
    }

    /// Settings for manifests and logs: every setting of `settingTable` that is a field here, by
    /// its key, printed as the key takes it.
    public var summary: [String: String] {
        Dictionary(uniqueKeysWithValues: CaGConfig.settingTable.compactMap { s in s.value(in: self).map { (s.key, $0) } })
    }
}
