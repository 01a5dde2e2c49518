import Datasets
import Engine
import Support
import Foundation
import Synth
import Models

/// Optimisation settings of a GAN run.
public struct GANTrainingConfig: Equatable, Sendable {
    public var steps: Int
    public var batchSize: Int
    public var lrG: Float
    public var lrD: Float
    public var beta1: Float
    public var beta2: Float
    /// Discriminator updates per generator update.
    public var dSteps: Int
    /// Decay of the generator's exponential moving average (warmed up as min(decay, (1+t)/(10+t))).
    public var emaDecay: Float
    public var seed: UInt64
    /// Differentiable augmentation of every image D sees (none by default).
    public var augment: DiffAugment

    public init(steps: Int = 8000, batchSize: Int = 64, lrG: Float = 2e-4, lrD: Float = 2e-4, beta1: Float = 0.5,
                beta2: Float = 0.999, dSteps: Int = 1, emaDecay: Float = 0.999, seed: UInt64 = 0, augment: DiffAugment = .none) {
        self.steps = steps; self.batchSize = batchSize; self.lrG = lrG; self.lrD = lrD
        self.beta1 = beta1; self.beta2 = beta2; self.dSteps = dSteps; self.emaDecay = emaDecay; self.seed = seed
        self.augment = augment
    }

    public func validate() throws {
        guard steps >= 1 else { throw SynthError("--steps must be at least 1") }
        guard batchSize >= 2 else { throw SynthError("--batch must be at least 2 (batch norm needs more than one sample)") }
        guard lrG > 0, lrD > 0 else { throw SynthError("learning rates must be positive") }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { throw SynthError("Adam betas must lie in [0, 1)") }
        guard dSteps >= 1 else { throw SynthError("--d-steps must be at least 1") }
        guard (0..<1).contains(emaDecay) else { throw SynthError("--ema-decay must lie in [0, 1)") }
    }

    /// Metadata form: floats in their shortest round-trip spelling, so a resumed run reads back
    /// exactly the values it started with. `augment` is written only when set, so a run without
    /// it writes the same files as before the setting existed.
    var metadata: [String: String] {
        var m = ["train_steps": String(steps), "train_batch": String(batchSize), "lr_g": String(lrG), "lr_d": String(lrD),
                 "beta1": String(beta1), "beta2": String(beta2), "d_steps": String(dSteps), "ema_decay": String(emaDecay),
                 "train_seed": String(seed)]
        if !augment.isNone { m["augment"] = augment.spec }
        return m
    }

    init(metadata m: [String: String], file: String) throws {
        func int(_ k: String) throws -> Int {
            guard let s = m[k], let v = Int(s) else { throw SynthError.file(file, "checkpoint metadata lacks a valid '\(k)'") }
            return v
        }
        func float(_ k: String) throws -> Float {
            guard let s = m[k], let v = Float(s) else { throw SynthError.file(file, "checkpoint metadata lacks a valid '\(k)'") }
            return v
        }
        guard let s = m["train_seed"], let seed = UInt64(s) else { throw SynthError.file(file, "checkpoint metadata lacks a valid 'train_seed'") }
        let augment: DiffAugment
        do { augment = try m["augment"].map { try DiffAugment(spec: $0) } ?? .none } catch let e as SynthError {
            throw SynthError.file(file, "checkpoint metadata: \(e.message)")
        }
        self.init(steps: try int("train_steps"), batchSize: try int("train_batch"), lrG: try float("lr_g"), lrD: try float("lr_d"),
                  beta1: try float("beta1"), beta2: try float("beta2"), dSteps: try int("d_steps"),
                  emaDecay: try float("ema_decay"), seed: seed, augment: augment)
    }
}

/// Progress of a GAN run, emitted every few steps.
public struct GANProgress: Sendable {
    public let step: Int
    public let totalSteps: Int
    /// Mean hinge losses since the previous report.
    public let lossD: Double
    public let lossG: Double
    /// Mean discriminator scores on real and generated images since the previous report.
    public let scoreReal: Double
    public let scoreFake: Double
    public let secondsPerStep: Double
    public var etaSeconds: Double { secondsPerStep * Double(totalSteps - step) }
}

/// Trains a residual GAN with hinge losses (Lim & Ye 2017; Miyato et al. 2018): spectral norm in
/// D, conditional batch norm in G and a projection D when conditional, Adam for both, and an
/// exponential moving average of G's weights, which is the generator a run exports.
///
/// Determinism: every random draw of step t comes from a stream derived from (seed, t), and the
/// real-data order of epoch e from (seed, e), so the whole state of a run is its tensors, the
/// optimisers' moments and the step counter. A checkpoint holds exactly that, and a run resumed
/// from it continues bit for bit as if it had never stopped.
public final class GANTrainer {
    public let gan: GANConfig
    public private(set) var training: GANTrainingConfig
    public let generator: ResGANGenerator
    public let discriminator: ResGANDiscriminator
    /// The moving average of the generator's parameters (its buffers are recomputed on export).
    public let ema: ResGANGenerator
    let optG: Adam, optD: Adam
    public private(set) var step = 0
    let data: Dataset
    /// Data spec, recorded in checkpoints and the exported card.
    let dataName: String

    private var epochOrder: (epoch: Int, order: [Int])?

    /// A fresh run on `data`; the GAN's image shape and classes must match the data's.
    public init(gan: GANConfig, training: GANTrainingConfig, data: Dataset) throws {
        try gan.validate()
        try training.validate()
        guard data.channels == gan.channels, data.height == gan.height, data.width == gan.width else {
            throw SynthError("\(data.name): images are \(data.channels)x\(data.height)x\(data.width), the GAN is \(gan.imageShape.map(String.init).joined(separator: "x"))")
        }
        guard data.classCount == gan.classes else {
            throw SynthError("\(data.name): \(data.classCount) classes, the GAN has \(gan.classes)")
        }
        guard data.count >= training.batchSize else {
            throw SynthError("\(data.name): \(data.count) images, fewer than one batch of \(training.batchSize)")
        }
        self.gan = gan
        self.training = training
        self.data = data
        self.dataName = data.name
        var rng = RNG(seed: RNG.derive(training.seed, 0))
        generator = ResGANGenerator(gan, rng: &rng)
        discriminator = ResGANDiscriminator(gan, rng: &rng)
        var emaRNG = RNG(seed: 0)
        ema = ResGANGenerator(gan, rng: &emaRNG)
        ema.freeze()
        copyState(from: generator, to: ema)
        let gParams = generator.parameters, dParams = discriminator.parameters
        optG = Adam(gParams, lr: training.lrG, beta1: training.beta1, beta2: training.beta2)
        optD = Adam(dParams, lr: training.lrD, beta1: training.beta1, beta2: training.beta2)
    }

    // MARK: Training

    /// Runs until `training.steps`, writing a checkpoint every `checkpointEvery` steps (and at the
    /// end) when `checkpoint` is given.
    public func run(checkpoint: String? = nil, checkpointEvery: Int = 1000, reportEvery: Int = 50,
                    progress: (GANProgress) -> Void = { _ in }) throws {
        var lossD = 0.0, lossG = 0.0, real = 0.0, fake = 0.0, count = 0
        var clock = Date()
        while step < training.steps {
            let s = trainStep()
            guard s.lossD.isFinite, s.lossG.isFinite else {
                throw SynthError("GAN training diverged at step \(step): losses D \(s.lossD), G \(s.lossG) (try lower learning rates)")
            }
            lossD += Double(s.lossD); lossG += Double(s.lossG); real += Double(s.real); fake += Double(s.fake); count += 1
            if let checkpoint, step % checkpointEvery == 0 || step == training.steps {
                try saveCheckpoint(to: checkpoint)
            }
            if step % reportEvery == 0 || step == training.steps {
                let now = Date()
                let n = Double(count)
                progress(GANProgress(step: step, totalSteps: training.steps, lossD: lossD / n, lossG: lossG / n,
                                     scoreReal: real / n, scoreFake: fake / n,
                                     secondsPerStep: now.timeIntervalSince(clock) / n))
                lossD = 0; lossG = 0; real = 0; fake = 0; count = 0; clock = now
            }
        }
    }

    /// Extends (or shortens, not below the current step) the run's length.
    public func setTotalSteps(_ steps: Int) throws {
        guard steps >= step else { throw SynthError("--steps \(steps) is below the checkpoint's step \(step)") }
        training.steps = steps
    }

    struct StepLosses { let lossD: Float, lossG: Float, real: Float, fake: Float }

    /// One generator update after `dSteps` discriminator updates.
    func trainStep() -> StepLosses {
        let b = training.batchSize
        var rng = RNG(seed: RNG.derive(training.seed, 2, UInt64(step)))
        generator.train(); discriminator.train()

        // Hinge loss of D: mean(relu(1 - D(real))) + mean(relu(1 + D(fake))), on one joint batch
        // (D has no batch statistics, so this equals two separate passes, at one pass's cost).
        let sign = Tensor(uninitialized: [2 * b, 1])
        for i in 0..<(2 * b) { sign.ptr[i] = i < b ? 1 : -1 }
        var lossD: Float = 0, real: Float = 0, fake: Float = 0
        for k in 0..<training.dSteps {
            let (xReal, yReal) = realBatch(step * training.dSteps + k)
            let z = gaussian([b, gan.zDim], &rng)
            let yFake = (0..<b).map { _ in rng.int(below: gan.classes) }
            let xFake = Autodiff.withoutGrad { generator(z, labels: yFake) }
            let scores = discriminator(augmented(concat([xReal, xFake], axis: 0), stream: UInt64(k)), labels: yReal + yFake)
            let loss = sum(relu(1 - scores * sign)) / Float(b)
            optD.zeroGrad()
            loss.backward()
            optD.step()
            lossD = loss.item
            real = 0; fake = 0
            for i in 0..<b { real += scores.ptr[i]; fake += scores.ptr[b + i] }
            real /= Float(b); fake /= Float(b)
        }

        // Non-saturating hinge loss of G: -mean(D(G(z), y)), D frozen (no weight gradients).
        let z = gaussian([b, gan.zDim], &rng)
        let y = (0..<b).map { _ in rng.int(below: gan.classes) }
        discriminator.freeze()
        let lossG = 0 - mean(discriminator(augmented(generator(z, labels: y), stream: UInt64(training.dSteps)), labels: y))
        optG.zeroGrad()
        lossG.backward()
        optG.step()
        discriminator.freeze(false)

        step += 1
        updateEMA()
        return StepLosses(lossD: lossD, lossG: lossG.item, real: real, fake: fake)
    }

    /// x through `training.augment`, drawn from its own stream per step and pass (D's k-th
    /// update, then G's), so a run without augmentation draws exactly what it drew before.
    func augmented(_ x: Tensor, stream: UInt64) -> Tensor {
        guard !training.augment.isNone else { return x }
        var rng = RNG(seed: RNG.derive(training.seed, 4, UInt64(step), stream))
        return training.augment(x, rng: &rng)
    }

    /// Real images scaled to [-1, 1] and their labels for the q-th real batch of the run: epoch
    /// q / batchesPerEpoch, in that epoch's permutation (the last partial batch is dropped).
    func realBatch(_ q: Int) -> (Tensor, [Int]) {
        let b = training.batchSize
        let perEpoch = data.count / b
        let epoch = q / perEpoch, offset = (q % perEpoch) * b
        if epochOrder?.epoch != epoch {
            var rng = RNG(seed: RNG.derive(training.seed, 1, UInt64(epoch)))
            epochOrder = (epoch, rng.permutation(data.count))
        }
        let idx = Array(epochOrder!.order[offset..<(offset + b)])
        let x = Tensor(uninitialized: [b, gan.channels, gan.height, gan.width])
        data.batch(indices: idx, mean: [0.5], std: [0.5], into: x.ptr)
        return (x, data.labels(for: idx))
    }

    func gaussian(_ shape: [Int], _ rng: inout RNG) -> Tensor {
        let t = Tensor(uninitialized: shape)
        rng.fillNormal(t.ptr, count: t.count)
        return t
    }

    /// ema = d * ema + (1 - d) * g over the parameters, d warmed up from 0.
    func updateEMA() {
        let t = Float(step)
        let d = min(training.emaDecay, (1 + t) / (10 + t))
        for (e, p) in zip(ema.parameters, generator.parameters) {
            let ep = e.ptr, pp = p.ptr
            for i in 0..<e.count { ep[i] = d * ep[i] + (1 - d) * pp[i] }
        }
    }

    // MARK: Checkpoints

    static let checkpointKind = "gan-training-checkpoint"

    /// G, D, EMA-G, both optimisers' states and the step, atomically (temporary file, rename).
    public func saveCheckpoint(to path: String) throws {
        var entries = prefixed(generator.stateEntries(), "g.") + prefixed(discriminator.stateEntries(), "d.")
            + prefixed(ema.stateEntries(), "ema.")
        entries += optG.stateEntries(prefix: "opt_g.") + optD.stateEntries(prefix: "opt_d.")
        var meta = gan.generatorCard().metadata.merging(training.metadata) { a, _ in a }
        meta["kind"] = GANTrainer.checkpointKind
        meta["step"] = String(step)
        meta["train_data"] = dataName
        try Safetensors.write(entries, metadata: meta, to: path)
    }

    /// A training checkpoint's file, its generator card and the GAN's configuration.
    static func readCheckpoint(_ path: String) throws -> (SafetensorsFile, ModelCard, GANConfig) {
        let file = try Safetensors.read(path)
        guard isCheckpoint(file) else {
            throw SynthError.file(path, "not a GAN training checkpoint (kind '\(file.metadata["kind"] ?? "none")')")
        }
        var cardMeta = file.metadata
        cardMeta["kind"] = "generator"
        let card = try ModelCard(metadata: cardMeta, file: path)
        return (file, card, try GANConfig(card: card, file: path))
    }

    /// Whether a file is a `train-gan` training checkpoint (which, unlike an exported generator,
    /// holds the discriminator).
    public static func isCheckpoint(_ file: SafetensorsFile) -> Bool { file.metadata["kind"] == checkpointKind }

    /// The discriminator of a training checkpoint, in evaluation mode, and the card whose
    /// normalisation its images take.
    public static func discriminator(fromCheckpoint path: String) throws -> (discriminator: ResGANDiscriminator, card: ModelCard) {
        let (file, card, gan) = try readCheckpoint(path)
        var rng = RNG(seed: 0)
        let d = ResGANDiscriminator(gan, rng: &rng)
        try d.load(unprefixed(file.entries, "d."), file: path)
        d.eval()
        return (d, card)
    }

    /// A run restored from `path` on `data` (which must match the checkpoint's image shape and
    /// classes); it continues from the checkpoint's step.
    public static func resume(from path: String, data: Dataset) throws -> GANTrainer {
        let (file, _, gan) = try readCheckpoint(path)
        let training = try GANTrainingConfig(metadata: file.metadata, file: path)
        guard let s = file.metadata["step"], let step = Int(s), step >= 0, step <= training.steps else {
            throw SynthError.file(path, "checkpoint metadata lacks a valid 'step'")
        }
        guard data.classNames == gan.classNames else {
            throw SynthError.file(path, "was trained on classes \(gan.classNames.prefix(4).joined(separator: ", "))..., \(data.name) has \(data.classNames.prefix(4).joined(separator: ", "))...")
        }
        let trainer: GANTrainer
        do {
            trainer = try GANTrainer(gan: gan, training: training, data: data)
        } catch let e as SynthError {
            throw SynthError.file(path, e.message)
        }
        try trainer.generator.load(unprefixed(file.entries, "g."), file: path)
        try trainer.discriminator.load(unprefixed(file.entries, "d."), file: path)
        try trainer.ema.load(unprefixed(file.entries, "ema."), file: path)
        try trainer.optG.loadState(file.entries, prefix: "opt_g.", file: path)
        try trainer.optD.loadState(file.entries, prefix: "opt_d.", file: path)
        trainer.step = step
        return trainer
    }

    // MARK: Export

    /// The EMA generator with standing batch-norm statistics, as a separate model in eval mode
    /// (the run's own state is untouched, so exporting mid-run changes nothing that follows).
    public func exportedGenerator() -> ResGANGenerator {
        var rng = RNG(seed: 0)
        let g = ResGANGenerator(gan, rng: &rng)
        copyState(from: ema, to: g)
        g.freeze()
        g.recomputeStatistics(seed: RNG.derive(training.seed, 3, UInt64(step)))
        return g
    }

    /// Writes `exportedGenerator()` with a card recording the run.
    public func exportGenerator(to path: String, info: [String: String] = [:]) throws {
        var meta = training.metadata
        meta["train_data"] = dataName
        meta["step"] = String(step)
        meta.merge(info) { _, new in new }
        try GANFile.save(exportedGenerator(), to: path, info: meta)
    }
}

func copyState(from a: Layer, to b: Layer) {
    for (x, y) in zip(a.stateDict(), b.stateDict()) {
        precondition(x.name == y.name && x.tensor.count == y.tensor.count, "copyState: \(x.name) vs \(y.name)")
        y.tensor.ptr.update(from: x.tensor.ptr, count: x.tensor.count)
    }
}

func prefixed(_ entries: [SafetensorsEntry], _ prefix: String) -> [SafetensorsEntry] {
    entries.map { var e = $0; e.name = prefix + e.name; return e }
}

func unprefixed(_ entries: [String: SafetensorsEntry], _ prefix: String) -> [String: SafetensorsEntry] {
    var out: [String: SafetensorsEntry] = [:]
    for (k, v) in entries where k.hasPrefix(prefix) {
        var e = v
        e.name = String(k.dropFirst(prefix.count))
        out[e.name] = e
    }
    return out
}
