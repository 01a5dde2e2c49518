import ArgumentParser
import Datasets
import Engine
import Foundation
import Support
import Synth
import Training

struct TrainGANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-gan",
        abstract: "Train a residual GAN (conditional by default) and save its EMA generator.",
        discussion: """
        Hinge loss, spectral norm in the discriminator D, conditional batch norm in the generator G and a projection discriminator (unless --unconditional), and an exponential moving average of G's weights, which is the generator saved. Checkpoints (G, D, the average, both optimisers, the step) are written atomically every --checkpoint-every steps; after an interruption, the same command with --resume CHECKPOINT continues exactly where it stopped. --augment passes every image D sees, real and generated, through the same random transforms (DiffAugment), so D cannot memorise the training images.

        Examples:
          synth train-gan --data fashion-mnist:train --block concat --seed 1 \\
              --out gan-concat.safetensors
          synth train-gan --data fashion-mnist:train --unconditional \\
              --out gan-uncond.safetensors
          synth train-gan --data fashion-mnist:train \\
              --augment color,translation,cutout --out gan-aug.safetensors
        """
    )

    @Option(help: "Training data spec, e.g. fashion-mnist:train.") var data: String
    @Option(help: "Residual block: add (y = F(x) + x) or concat (y = conv1x1(concat(F(x), x))).") var block: String?
    @Flag(help: "An unconditional GAN (plain batch norm, no projection): for synth condition.") var unconditional = false
    @Option(help: "Random seed (initialisation, data order, latents).") var seed: UInt64?
    @Option(help: "Total generator steps (default 8000: the shipped GANs' length).") var steps: Int?
    @Option(help: "Batch size (default 64).") var batch: Int?
    @Option(help: "Generator base width w: 4w, 2w, w channels (default 24).") var width: Int?
    @Option(help: "Discriminator base width: w, 2w, 2w channels (default 24).") var dWidth: Int?
    @Option(help: "Latent size (default 128).") var zDim: Int?
    @Option(help: "Generator learning rate (default 2e-4).") var lrG: Float?
    @Option(help: "Discriminator learning rate (default 2e-4).") var lrD: Float?
    @Option(help: "Adam beta1 (default 0.5).") var beta1: Float?
    @Option(help: "Adam beta2 (default 0.999).") var beta2: Float?
    @Option(help: "Discriminator steps per generator step (default 1).") var dSteps: Int?
    @Option(help: "EMA decay of the generator's weights (default 0.999).") var emaDecay: Float?
    @Option(help: "Differentiable augmentation of D's inputs, real and generated alike (DiffAugment): \(DiffAugment.names) (default none).") var augment: String?
    @Option(help: "Output: the EMA generator (.safetensors).") var out: String
    @Option(help: "Training checkpoint path (default: OUT with .ckpt.safetensors).") var checkpoint: String?
    @Option(help: "Steps between checkpoints.") var checkpointEvery = 500
    @Option(help: "Continue the run saved in this checkpoint.") var resume: String?
    @Option(help: "Also write a PNG grid of samples (one row per class).") var preview: String?
    @Flag(help: "Report progress in pipes too.") var verbose = false

    func validate() throws {
        if let b = block, GANConfig.Block(rawValue: b) == nil { throw ValidationError("--block must be add or concat") }
        if checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
        if let augment, (try? DiffAugment(spec: augment)) == nil { throw ValidationError("--augment '\(augment)': expected \(DiffAugment.names)") }
        if resume != nil {
            let fixed: [(String, Bool)] = [("--block", block != nil), ("--unconditional", unconditional), ("--seed", seed != nil),
                                           ("--batch", batch != nil), ("--width", width != nil), ("--d-width", dWidth != nil),
                                           ("--z-dim", zDim != nil), ("--lr-g", lrG != nil), ("--lr-d", lrD != nil),
                                           ("--beta1", beta1 != nil), ("--beta2", beta2 != nil), ("--d-steps", dSteps != nil),
                                           ("--ema-decay", emaDecay != nil), ("--augment", augment != nil)]
            if let given = fixed.first(where: \.1) {
                throw ValidationError("\(given.0) comes from the checkpoint when resuming (only --steps may change)")
            }
        }
    }

    var checkpointPath: String {
        if let checkpoint { return checkpoint }
        let base = out.hasSuffix(".safetensors") ? String(out.dropLast(".safetensors".count)) : out
        return base + ".ckpt.safetensors"
    }

    func run() throws {
        try OutputPath.checkWritable(out)
        try OutputPath.checkWritable(checkpointPath)
        if let preview { try OutputPath.checkWritable(preview) }
        let dataset = try Dataset.load(spec: data)
        let trainer: GANTrainer
        if let resume {
            trainer = try GANTrainer.resume(from: resume, data: dataset)
            if let steps { try trainer.setTotalSteps(steps) }
            FileHandle.standardError.write(Data("resuming \(resume) at step \(trainer.step) of \(trainer.training.steps)\n".utf8))
        } else {
            let gan = GANConfig(channels: dataset.channels, height: dataset.height, width: dataset.width,
                                classNames: dataset.classNames, conditional: !unconditional,
                                block: GANConfig.Block(rawValue: block ?? "concat")!, zDim: zDim ?? 128,
                                generatorWidth: width ?? 24, discriminatorWidth: dWidth ?? 24)
            var t = GANTrainingConfig(seed: seed ?? 0)
            if let steps { t.steps = steps }
            if let batch { t.batchSize = batch }
            if let lrG { t.lrG = lrG }
            if let lrD { t.lrD = lrD }
            if let beta1 { t.beta1 = beta1 }
            if let beta2 { t.beta2 = beta2 }
            if let dSteps { t.dSteps = dSteps }
            if let emaDecay { t.emaDecay = emaDecay }
            if let augment { t.augment = try DiffAugment(spec: augment) }
            trainer = try GANTrainer(gan: gan, training: t, data: dataset)
        }

        let line = ProgressLine(verbose: verbose)
        let started = Date(), startStep = trainer.step
        var timedFrom: (step: Int, time: Date)?
        try trainer.run(checkpoint: checkpointPath, checkpointEvery: checkpointEvery, reportEvery: 50) { p in
            // Step time is measured after the first report, past the buffer pool's warm-up.
            if timedFrom == nil { timedFrom = (p.step, Date()) }
            line.emit(String(format: "step %d/%d  D %.3f  G %.3f  D(real) %.2f  D(fake) %.2f  %.0f ms/step  ETA %@",
                             p.step, p.totalSteps, p.lossD, p.lossG, p.scoreReal, p.scoreFake, p.secondsPerStep * 1000,
                             ProgressLine.duration(p.etaSeconds)),
                      final: p.step % 500 == 0 || p.step == p.totalSteps)
        }
        let info = ["tool": "synth \(SynthVersion.string)"]
        try trainer.exportGenerator(to: out, info: info)
        if let preview { try SampleGrid.write(trainer.exportedGenerator(), seed: 0, to: preview) }
        let g = trainer.generator, d = trainer.discriminator
        var timing = ""
        if let t = timedFrom, trainer.step > t.step {
            timing = String(format: ", %.1f ms/step over steps %d-%d", Date().timeIntervalSince(t.time) * 1000 / Double(trainer.step - t.step), t.step + 1, trainer.step)
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print(String(format: "saved %@ (resgan-g %@%@, G %d / D %d parameters, %.2f MB; %@ in %.0f s%@)",
                     out, trainer.gan.block.rawValue, trainer.gan.conditional ? "" : " unconditional",
                     g.parameterCount, d.parameterCount, Double(bytes) / 1e6, counted(trainer.step - startStep, "step"),
                     Date().timeIntervalSince(started), timing))
    }
}
