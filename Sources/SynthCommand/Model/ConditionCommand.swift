import ArgumentParser
import Datasets
import Engine
import Foundation
import Support
import Synth
import Training

struct ConditionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "condition",
        abstract: "Train the input generator that steers a frozen unconditional GAN to a class through a classifier (for --source gan-latent).",
        discussion: """
        A small network maps a one-hot class to the mean and spread of the generator's latent; it is trained by the cross-entropy of the frozen classifier C on the generator's images, with a KL term towards N(0, I) so that the spread does not collapse to a single image per class. Each epoch reports the conditioning accuracy as judged by C and by an independent --judge classifier. The result is the --input-generator of synth build --source gan-latent.

        Example:
          synth condition --generator models/gan-uncond-s1.safetensors \\
              --classifier models/teacher-ref-cnn.safetensors \\
              --judge models/filter-resnet-s.safetensors --out input.safetensors
        """
    )

    @Option(help: "Frozen unconditional generator (synth train-gan --unconditional).") var generator: String
    @Option(help: "Frozen classifier C the input generator is trained through.") var classifier: String
    @Option(help: "Independent classifier that judges the conditioning accuracy (not C).") var judge: String?
    @Option(help: "Output input generator (.safetensors).") var out: String
    @Option(help: "Condition on the first N classes of C (default: all).") var classes: Int?
    @Option(help: "Epochs (each --steps-per-epoch steps).") var epochs = 10
    @Option(help: "Steps per epoch.") var stepsPerEpoch = 100
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Learning rate (Adam).") var lr: Float = 1e-3
    @Option(help: "Learning-rate schedule: cosine (decay to 0 over all steps) or constant.") var schedule: LearningRateSchedule = .cosine
    @Option(help: "Weight of the KL term towards N(0, I), per latent dimension.") var kl: Float = 0.5
    @Option(help: "Divide C's logits by this in the cross-entropy (above 1: push past the edge of C's classes).") var temperature: Float = 3
    @Option(help: "Hidden width of the input generator.") var hidden = 128
    @Option(help: "Samples per class in each epoch's evaluation.") var evalPerClass = 100
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Also write a PNG grid of conditioned samples (one row per class).") var preview: String?
    @Flag(help: "Print the per-epoch reports as JSON.") var json = false

    func run() throws {
        try OutputPath.checkWritable(out)
        let models = try ConditionModels(generator: generator, classifier: classifier, judge: judge, classes: classes)
        if let judge, judge == classifier {
            FileHandle.standardError.write(Data("warning: --judge is the training classifier; its accuracy is not independent\n".utf8))
        }
        let g = models.generator
        let config = ConditionConfig(epochs: epochs, stepsPerEpoch: stepsPerEpoch, batchSize: batch, learningRate: lr,
                                     klWeight: kl, hidden: hidden, evalPerClass: evalPerClass, seed: seed,
                                     cosine: schedule == .cosine, temperature: temperature)
        let trainer = try InputGeneratorTrainer(generator: g, classifier: models.classifier, judge: models.judge,
                                                classNames: models.classNames, config: config)
        let reports = trainer.run { r in
            guard !json else { return }
            var s = String(format: "epoch %2d  CE %.4f  KL %.4f  acc(C) %.4f", r.epoch, r.crossEntropy, r.kl, r.accuracyC)
            if let a = r.accuracyJudge { s += String(format: "  acc(judge) %.4f", a) }
            s += String(format: "  mean sigma %.3f  |mu| %.2f  (%.0f s)", r.meanSigma, r.meanMuNorm, r.seconds)
            print(s)
        }
        let last = reports.last!
        var info = ["generator": generator, "generator_sha256": try FileDigest.sha256(ofFile: generator), "classifier": classifier,
                    "classifier_sha256": try FileDigest.sha256(ofFile: classifier), "kl_weight": String(kl), "temperature": String(temperature), "epochs": String(epochs),
                    "steps_per_epoch": String(stepsPerEpoch), "batch": String(batch), "lr": String(lr), "schedule": schedule.rawValue, "seed": String(seed),
                    "accuracy_classifier": String(format: "%.4f", last.accuracyC), "tool": "synth \(SynthVersion.string)"]
        if let judge, let a = last.accuracyJudge {
            info["judge"] = judge
            info["accuracy_judge"] = String(format: "%.4f", a)
        }
        try trainer.inputGenerator.save(to: out, imageShape: g.config.imageShape, info: info)
        if let preview {
            try SampleGrid.write(LatentGANSource(generator: g, inputGenerator: trainer.inputGenerator, files: [generator, out]), to: preview)
        }
        if json {
            print(JSONOutput.string(reports))
        } else {
            print("saved \(out)")
        }
    }
}
