import ArgumentParser
import Datasets
import Foundation
import Measure
import Models
import Support
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier and save it as a safetensors checkpoint.",
        discussion: """
        With --test, the training set's classes are matched to the test set's by name (see synth help, folder:DIR) and the model is saved with the test set's classes.

        Examples:
          synth train --data fashion-mnist:train --epochs 2 --out teacher.safetensors
          synth train --data fashion-mnist:train@10000 --arch resnet-s --steps 4690 \\
              --test fashion-mnist:test --out m.safetensors
          synth train --data folder:pics/ --test fashion-mnist:test --out m.safetensors
        """
    )

    @Option(help: "Training data spec, e.g. fashion-mnist:train or shards:DIR.") var data: String
    @Option(help: "Architecture: \(Architectures.classifiers.joined(separator: ", ")).") var arch = "ref-cnn"
    @Option(help: "Number of passes over the data.") var epochs: Int?
    @Option(help: "Number of optimisation steps instead of epochs.") var steps: Int?
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Option(help: "Optimiser: adam, adamw or sgd (momentum 0.9, Nesterov).") var optimizer = "adam"
    @Option(help: "Weight decay (L2 for adam/sgd, decoupled for adamw).") var weightDecay: Float = 0
    @Option(help: "Learning-rate schedule: cosine (decay to zero over the run) or constant.") var schedule: LearningRateSchedule = .cosine
    @Flag(help: "Train on stored probability vectors (shards built by synth) instead of hard labels.") var soft = false
    @Option(help: "Random seed (initialisation and batch order).") var seed: UInt64 = 0
    @Option(help: "Output checkpoint (.safetensors).") var out: String
    @Option(help: "Evaluate on this spec after training (e.g. fashion-mnist:test).") var test: String?
    @Flag(help: "Report progress in pipes too (one line per epoch).") var verbose = false

    func validate() throws {
        try validateTrainingFlags(epochs: epochs, steps: steps, batch: batch, lr: lr)
        if TrainingConfig.OptimizerKind(rawValue: optimizer) == nil { throw ValidationError("--optimizer must be adam, adamw or sgd") }
        if !Architectures.classifiers.contains(arch) {
            throw ValidationError("unknown architecture '\(arch)' (known: \(Architectures.classifiers.joined(separator: ", ")))")
        }
    }

    func run() throws {
        try OutputPath.checkWritable(out)
        let testSet = try test.map { try Dataset.load(spec: $0) }
        // With a test set the model learns its label space (classes matched by name), so that
        // the score, and the saved model, mean the test set's classes.
        let loaded = try Dataset.load(spec: data)
        let dataset = try testSet.map { try CAS.aligned(train: loaded, test: $0) } ?? loaded
        let stats = dataset.channelStatistics()
        let card = ModelCard(kind: "classifier", arch: arch, classNames: dataset.classNames,
                             channels: dataset.channels, height: dataset.height, width: dataset.width,
                             mean: stats.mean, std: stats.std)
        let model = try Architectures.classifier(card, seed: seed)
        let config = TrainingConfig(length: steps.map { .steps($0) } ?? .epochs(epochs ?? 2), batchSize: batch,
                                    learningRate: lr, optimizer: TrainingConfig.OptimizerKind(rawValue: optimizer)!,
                                    weightDecay: weightDecay, cosine: schedule == .cosine, seed: seed)
        let line = ProgressLine(verbose: verbose)
        let started = Date()
        try ClassifierTrainer(config: config, soft: soft).train(model, on: dataset) { p in
            line.emit(String(format: "epoch %d  step %d/%d  loss %.4f  %.0f samples/s  ETA %@",
                             p.epoch, p.step, p.totalSteps, p.loss, p.samplesPerSecond, ProgressLine.duration(p.etaSeconds)),
                      final: p.endOfEpoch)
        }
        var info = ["train_data": data, "train_seed": String(seed), "train_steps": String(config.totalSteps(samples: dataset.count)),
                    "train_batch": String(batch), "train_lr": String(lr), "train_optimizer": optimizer, "train_schedule": schedule.rawValue, "tool": "synth \(SynthVersion.string)"]
        if let testSet {
            let ev = try Evaluation.run(model, on: testSet)
            info["test_data"] = testSet.name
            info["test_accuracy"] = String(format: "%.4f", ev.accuracy)
            print(String(format: "test accuracy %.4f on %@ (%@)", ev.accuracy, testSet.name, counted(ev.samples, "sample")))
        }
        try ModelFile.save(model, to: out, info: info)
        print(String(format: "saved %@ (%@, %d parameters, %.1f s)", out, arch, model.parameterCount, Date().timeIntervalSince(started)))
    }
}
