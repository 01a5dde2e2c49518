import Engine
import Support
import Foundation
import Models

/// A frozen classifier CaG inverts, with what its priors need: its batch-norm layers and, for the
/// distribution loss and the per-class batch-norm prior, its feature statistics.
public struct CaGClassifier {
    public let model: Classifier
    public let statistics: FeatureStatistics?
    let batchNorms: [(name: String, layer: BatchNorm)]
    /// Per batch-norm layer: the per-class statistics of the same layer in `statistics`, if any.
    let layerStatistics: [FeatureStatistics.LayerStatistics?]

    public init(_ model: Classifier, statistics: FeatureStatistics?) {
        self.model = model
        self.statistics = statistics
        model.eval()
        model.freeze()
        batchNorms = batchNormLayers(of: model)
        layerStatistics = batchNorms.map { bn in statistics?.layers.first { $0.name == bn.name } }
    }
}

/// The terms of one evaluation of CaG's objective (summed over the ensemble), for logs and tests.
public struct CaGLossParts: Sendable {
    public var classification: Float = 0
    public var diversity: Float = 0
    public var distribution: Float = 0
    public var batchNorm: Float = 0
    public var reconstruction: Float = 0
    public var target: Float = 0
    public var totalVariation: Float = 0
    public var total: Float = 0
}

/// Classifier as generator (Wang & Torr): images made only by optimising the input of frozen
/// classifiers. Each step draws a fresh random mask, passes x through the reconstruction module g,
/// and takes an Adam step on x for CE(f(g(x)), c) (eq. 3) + lambda_div L_div (eq. 4) +
/// lambda_dist L_dist (eq. 6) (+ lambda_bn, DeepInversion's batch-norm prior), summed over an
/// ensemble of classifiers; x grows coarse to fine (§3.3). Every part can be switched off.
public final class CaGSampler {
    public let classifiers: [CaGClassifier]
    public let reconstructor: Reconstructor?
    public let config: CaGConfig
    /// [C, H, W] of the classifiers' input and of every sample.
    public let imageShape: [Int]

    public init(classifiers: [CaGClassifier], reconstructor: Reconstructor?, config: CaGConfig) throws {
        guard let first = classifiers.first else { throw SynthError("CaG needs at least one classifier") }
        let shape = first.model.card.inputShape
        for c in classifiers.dropFirst() {
            guard c.model.card.inputShape == shape else {
                throw SynthError("the ensemble's classifiers take different inputs: \(shape) and \(c.model.card.inputShape)")
            }
            guard c.model.card.classes == first.model.card.classes else {
                throw SynthError("the ensemble's classifiers have different class counts: \(first.model.card.classes) and \(c.model.card.classes)")
            }
        }
        if config.reconstructor {
            guard let g = reconstructor else { throw SynthError("CaG with the reconstruction module needs a reconstructor (or --source-option reconstructor=false)") }
            guard g.card.inputShape == shape else {
                throw SynthError("the reconstructor takes \(g.card.inputShape) images, the classifier \(shape)")
            }
            g.eval()
            g.freeze()
        }
        guard shape[1] == shape[2] else { throw SynthError("CaG needs square images, got \(shape[1])x\(shape[2])") }
        if let p = config.problem(imageSide: shape[1]) { throw SynthError("CaG settings: \(p)") }
        if config.lambdaDist > 0 || config.lambdaTarget > 0, let i = classifiers.firstIndex(where: { $0.statistics == nil }) {
            throw SynthError("the distribution and feature-target losses need feature statistics of classifier \(i + 1) (synth stats --model C --data SPEC)")
        }
        if config.lambdaBn > 0 && config.bnStatistics == .perClass {
            for (i, c) in classifiers.enumerated() where c.layerStatistics.contains(where: { $0 == nil }) {
                throw SynthError("the per-class batch-norm prior needs batch-norm statistics of classifier \(i + 1) (synth stats, or --bn-stats running)")
            }
        }
        self.classifiers = classifiers
        self.reconstructor = config.reconstructor ? reconstructor : nil
        self.config = config
        self.imageShape = shape
    }

    public var classes: Int { classifiers[0].model.card.classes }
    public var side: Int { imageShape[1] }

    /// Optimises one batch of candidates, labels[i] the class of candidate i; returns [N, C, H, W]
    /// in [0, 1]. Deterministic in (labels, seed).
    public func sample(labels: [Int], seed: UInt64, onStep: ((Int, CaGLossParts) -> Void)? = nil) -> Tensor {
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "CaG: label outside 0..<\(classes)")
        var rng = RNG(seed: seed)
        let n = labels.count
        let stages = config.stages(forSide: side)
        var param = initialParameter(count: n, side: stages[0], rng: &rng)
        let targets = config.lambdaTarget > 0 ? featureTargets(labels: labels, rng: &rng) : nil
        var step = 0
        let totalSteps = config.totalSteps(side: side)
        for (s, stageSide) in stages.enumerated() {
            if s > 0 {
                let grown = Autodiff.withoutGrad { resize(param, height: stageSide, width: stageSide, mode: .bilinear) }
                param = Tensor(shape: grown.shape, storage: grown.storage, requiresGrad: true)
            }
            let opt = Adam([param], lr: config.lr, beta1: config.beta1)
            for _ in 0..<config.steps(stage: s) {
                let mask = reconstructor.map { g in
                    PatchMask.random(count: n, height: side, width: side, patch: g.patch, ratio: g.maskRatio, rng: &rng)
                }
                let shift = config.jitter > 0
                    ? (rng.int(below: 2 * config.jitter + 1) - config.jitter, rng.int(below: 2 * config.jitter + 1) - config.jitter)
                    : (0, 0)
                param.zeroGrad()
                let (loss, parts) = objective(parameter: param, labels: labels, mask: mask, shift: shift, targets: targets)
                loss.backward()
                if config.blurSigma > 0, let g = param.grad {
                    let blurred = Autodiff.withoutGrad { gaussianBlur(Tensor(shape: param.shape, storage: g), sigma: config.blurSigma) }
                    g.pointer.update(from: blurred.ptr, count: param.count)
                }
                opt.step()
                let sigma = config.noiseSigma(step: step, totalSteps: totalSteps)
                if sigma > 0 {
                    let p = param.ptr
                    for i in 0..<param.count { p[i] += sigma * rng.normal() }
                }
                if config.parameterization == .clamp {
                    let p = param.ptr
                    for i in 0..<param.count { p[i] = min(max(p[i], 0), 1) }
                }
                step += 1
                onStep?(step, parts)
            }
        }
        param.zeroGrad()
        return emit(parameter: param, rng: &rng)
    }

    /// Per classifier, a feature vector for each sample drawn from its class's feature
    /// distribution, N(mu_c, sigma_c) per feature, floored at 0 (the features follow a ReLU):
    /// samples that aim at different points of the class cannot all collapse onto one image.
    func featureTargets(labels: [Int], rng: inout RNG) -> [Tensor] {
        classifiers.map { c in
            guard let stats = c.statistics else { return Tensor(zeros: [labels.count, c.model.featureDimension]) }
            let d = stats.dimension
            let t = Tensor(uninitialized: [labels.count, d])
            for (i, y) in labels.enumerated() {
                for j in 0..<d { t.ptr[i * d + j] = max(0, stats.classMean[y * d + j] + stats.classStd[y * d + j] * rng.normal()) }
            }
            return t
        }
    }

    /// The starting x: pixels near `initPixel`, spread `initSpread` (in logits for the sigmoid).
    func initialParameter(count n: Int, side s: Int, rng: inout RNG) -> Tensor {
        let p = Tensor(zeros: [n, imageShape[0], s, s], requiresGrad: true)
        switch config.parameterization {
        case .sigmoid:
            let centre = logf(config.initPixel / (1 - config.initPixel))
            rng.fillNormal(p.ptr, count: p.count, mean: centre, std: config.initSpread)
        case .clamp:
            rng.fillNormal(p.ptr, count: p.count, mean: config.initPixel, std: config.initSpread)
            for i in 0..<p.count { p.ptr[i] = min(max(p.ptr[i], 0), 1) }
        }
        return p
    }

    /// Pixels in [0, 1] at full size from the optimised tensor at its stage's size.
    func pixels(_ param: Tensor) -> Tensor {
        let p = config.parameterization == .sigmoid ? sigmoid(param) : param
        return param.shape[2] == side ? p : resize(p, height: side, width: side, mode: .bilinear)
    }

    /// The objective at one step: `mask` is the reconstruction module's mask (nil without it),
    /// `shift` the jitter in pixels (rows, columns).
    /// `targets`: per classifier, the feature vector each sample aims at (see `featureTargets`).
    public func objective(parameter: Tensor, labels: [Int], mask: Tensor?, shift: (Int, Int) = (0, 0),
                          targets: [Tensor]? = nil) -> (Tensor, CaGLossParts) {
        var image = pixels(parameter)
        if shift != (0, 0) { image = translate(image, by: shift) }
        var parts = CaGLossParts()
        var total: Tensor?
        func add(_ term: Tensor) { total = total.map { $0 + term } ?? term }
        var views: [Tensor] = []
        if config.lambdaTv > 0 {
            let tv = CaGLosses.totalVariation(image)
            parts.totalVariation = tv.item
            add(tv * config.lambdaTv)
        }
        if let g = reconstructor, let mask {
            let visible = image * 2 - 1
            let reconstruction = g(visible, mask: mask)
            if config.lambdaRec > 0 {
                let rec = maskedMSE(reconstruction, visible, mask: 1 - mask)
                parts.reconstruction = rec.item
                add(rec * config.lambdaRec)
            }
            if config.view != .image { views.append((reconstruction + 1) * 0.5) }
            if config.view != .reconstruction { views.append(image) }
        } else {
            views = [image]
        }
        for view in views {
            for (k, c) in classifiers.enumerated() {
                add(classifierLoss(c, view: view, labels: labels, target: targets?[k], parts: &parts))
            }
        }
        parts.total = total!.item
        return (total!, parts)
    }

    /// CE (eq. 3) and the feature priors of one classifier on one view of the batch.
    func classifierLoss(_ c: CaGClassifier, view: Tensor, labels: [Int], target: Tensor?, parts: inout CaGLossParts) -> Tensor {
        var inputs: [Tensor] = []
        if config.lambdaBn > 0 { for bn in c.batchNorms { bn.layer.inputObserver = { inputs.append($0) } } }
        let h = c.model.features(normalize(view, card: c.model.card))
        for bn in c.batchNorms { bn.layer.inputObserver = nil }
        var loss = crossEntropy(c.model.head(h), labels: labels)
        parts.classification += loss.item
        if config.lambdaDiv > 0, let div = CaGLosses.diversity(h, labels: labels) {
            parts.diversity += div.item
            loss = loss + div * config.lambdaDiv
        }
        if config.lambdaDist > 0, let stats = c.statistics,
           let dist = CaGLosses.distribution(h, labels: labels, classMean: stats.classMean, classStd: stats.classStd) {
            parts.distribution += dist.item
            loss = loss + dist * config.lambdaDist
        }
        if config.lambdaTarget > 0, let target, let stats = c.statistics {
            let t = CaGLosses.featureTarget(h, target: target, labels: labels, classStd: stats.classStd)
            parts.target += t.item
            loss = loss + t * config.lambdaTarget
        }
        if config.lambdaBn > 0 {
            var bnLoss: Tensor?
            for (i, x) in inputs.enumerated() {
                let layer = c.batchNorms[i].layer
                let stats = config.bnStatistics == .perClass ? c.layerStatistics[i] : nil
                let term = CaGLosses.batchNormStatistics(x, labels: labels, runningMean: layer.runningMean, runningVar: layer.runningVar,
                                                         classMean: stats?.classMean, classVar: stats?.classVar)
                bnLoss = bnLoss.map { $0 + term } ?? term
            }
            if let bnLoss {
                parts.batchNorm += bnLoss.item
                loss = loss + bnLoss * config.lambdaBn
            }
        }
        return loss
    }

    /// The samples from the final x: x itself, or g(x) averaged over fresh masks.
    func emit(parameter: Tensor, rng: inout RNG) -> Tensor {
        Autodiff.withoutGrad {
            let x = pixels(parameter)
            var out = x
            if config.output == .reconstruction, let g = reconstructor {
                let n = x.shape[0]
                var acc: Tensor?
                for _ in 0..<config.outputMasks {
                    let m = PatchMask.random(count: n, height: side, width: side, patch: g.patch, ratio: g.maskRatio, rng: &rng)
                    let y = g(x * 2 - 1, mask: m)
                    acc = acc.map { $0 + y } ?? y
                }
                out = (acc! / Float(config.outputMasks) + 1) * 0.5
            }
            let result = Tensor(uninitialized: out.shape)
            for i in 0..<out.count { result.ptr[i] = min(max(out.ptr[i], 0), 1) }
            return result
        }
    }

    /// Pixels in [0, 1] to the classifier's normalised input.
    func normalize(_ image: Tensor, card: ModelCard) -> Tensor {
        if card.channels == 1 { return (image - card.mean[0]) / card.std[0] }
        let m = Tensor(card.mean, shape: [1, card.channels, 1, 1]), s = Tensor(card.std, shape: [1, card.channels, 1, 1])
        return (image - m) / s
    }

    /// Shifts every image by (dy, dx) pixels, filling with black: a convolution with a one-hot kernel
    /// per channel (the engine's conv carries the gradient back).
    func translate(_ image: Tensor, by shift: (Int, Int)) -> Tensor {
        let c = image.shape[1], r = max(abs(shift.0), abs(shift.1)), k = 2 * r + 1
        let w = Tensor(zeros: [c, c, k, k])
        // Output (y, x) reads input (y - dy, x - dx): tap (r - dy, r - dx).
        for ch in 0..<c { w.ptr[((ch * c + ch) * k + (r - shift.0)) * k + (r - shift.1)] = 1 }
        return conv2d(image, w, nil, padding: r)
    }
}
