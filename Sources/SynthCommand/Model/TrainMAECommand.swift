import ArgumentParser
import Datasets
import Engine
import Foundation
import Support
import Synth
import Training

struct TrainMAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-mae",
        abstract: "Train CaG's reconstruction module: a masked autoencoder (ref-recon), loss on the hidden patches only.",
        discussion: """
        The module hides --mask-ratio of the image's --patch-pixel patches and learns to redraw them; CaG optimises its images through it.

        Examples:
          synth train-mae --data fashion-mnist:train --out recon.safetensors
          synth train-mae --data fashion-mnist:train --epochs 10 --width 64 \\
                      --out r.safetensors
        """
    )

    @Option(help: "Training data spec.") var data: String
    @Option(help: "Output checkpoint (.safetensors).") var out: String
    @Option(help: "Passes over the data.") var epochs: Int?
    @Option(help: "Optimisation steps instead of epochs.") var steps: Int?
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Learning rate (Adam).") var lr: Float = 1e-3
    @Option(help: "Channels of the first layer (the second has twice as many).") var width = 32
    @Option(help: "Side of the square mask patches, in pixels.") var patch = 4
    @Option(help: "Share of patches hidden.") var maskRatio: Float = 0.75
    @Option(help: "Random seed (initialisation, batch order, masks).") var seed: UInt64 = 0
    @Option(help: "Report the hidden-pixel error on this spec after training.") var test: String?
    @Flag(help: "Report progress in pipes too (one line per epoch).") var verbose = false

    func validate() throws {
        try validateTrainingFlags(epochs: epochs, steps: steps, batch: batch, lr: lr)
        if width < 1 { throw ValidationError("--width must be at least 1") }
        if !(maskRatio > 0 && maskRatio < 1) { throw ValidationError("--mask-ratio must lie strictly between 0 and 1") }
    }

    func run() throws {
        try OutputPath.checkWritable(out)
        let dataset = try Dataset.load(spec: data)
        let testSet = try test.map { try Dataset.load(spec: $0) }
        let percent = Int((maskRatio * 100).rounded())
        let card = Reconstructor.card(channels: dataset.channels, height: dataset.height, width: dataset.width,
                                      hiddenWidth: width, patch: patch, maskPercent: percent)
        let model: Reconstructor
        do { model = try Reconstructor(card: card, seed: seed) } catch let e as SynthError { throw SynthError.file(data, e.message) }
        let perEpoch = (dataset.count + batch - 1) / batch
        let total = steps ?? (epochs ?? 5) * perEpoch
        let trainer = MAETrainer(steps: total, batchSize: batch, learningRate: lr, seed: seed)
        let line = ProgressLine(verbose: verbose)
        let started = Date()
        try trainer.train(model, on: dataset) { p in
            line.emit(String(format: "epoch %d  step %d/%d  hidden-pixel mse %.4f  %.0f samples/s  ETA %@",
                             p.epoch, p.step, p.totalSteps, p.loss, p.samplesPerSecond, ProgressLine.duration(p.etaSeconds)),
                      final: p.endOfEpoch)
        }
        var info = ["train_data": data, "train_seed": String(seed), "train_steps": String(total), "train_batch": String(batch),
                    "train_lr": String(lr), "tool": "synth \(SynthVersion.string)"]
        if let testSet {
            let mse = MAETrainer.evaluate(model, on: testSet)
            info["test_data"] = testSet.name
            info["test_hidden_mse"] = String(format: "%.5f", mse)
            print(String(format: "hidden-pixel mse %.5f on %@ (pixels in [-1, 1])", mse, testSet.name))
        }
        try ReconstructorFile.save(model, to: out, info: info)
        print(String(format: "saved %@ (ref-recon, %d parameters, %.1f s)", out, model.parameterCount, Date().timeIntervalSince(started)))
    }
}
