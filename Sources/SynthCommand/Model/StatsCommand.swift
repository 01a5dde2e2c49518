import ArgumentParser
import Datasets
import Foundation
import Models
import Support
import Synth

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per-class feature statistics of a classifier (CaG's distribution and batch-norm priors).",
        discussion: """
        Writes C.stats.safetensors beside the classifier C (or --out): per-class mean and standard deviation of the penultimate features (what the distribution and feature-target losses aim at) and per-class channel statistics of every batch-norm layer's input (the batch-norm prior's targets). The classifier file itself is not changed.

        Example:
          synth stats --model models/teacher-ref-cnn.safetensors \\
              --data fashion-mnist:train --out teacher.stats.safetensors
        """
    )

    @Option(help: "Classifier: a checkpoint (.safetensors) or an ONNX model (.onnx).") var model: String
    @Option(help: "The classifier's training data spec.") var data: String
    @Option(help: "Output file (default: the classifier's path with .stats.safetensors).") var out: String?

    func run() throws {
        let path = out ?? FeatureStatistics.sidecarPath(for: model)
        try OutputPath.checkWritable(path)
        let classifier = try ModelFile.loadClassifier(model)
        let dataset = try Dataset.load(spec: data)
        guard dataset.classNames.count <= classifier.card.classes else {
            throw SynthError.file(model, "knows \(classifier.card.classes) classes, \(data) has \(dataset.classNames.count)")
        }
        let stats = try FeatureStatistics.compute(classifier, data: dataset, classifierSHA256: try FileDigest.sha256(ofFile: model))
        try stats.save(to: path)
        print("saved \(path) (\(counted(stats.classes, "class")) x \(counted(stats.dimension, "feature")), \(counted(stats.layers.count, "batch-norm layer")), \(counted(dataset.count, "image")))")
    }
}
