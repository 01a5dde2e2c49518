import ArgumentParser
import Datasets
import Foundation
import Measure
import Models

struct FrechetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frechet",
        abstract: "Fréchet distance between two image sets in a classifier's penultimate features.",
        discussion: """
        FID's formula, but in the features of a classifier trained on the real data (e.g. ref-cnn): no Inception network is available here, so values are named after the feature model and only comparable under the same one.

        Example:
          synth frechet --model models/teacher-ref-cnn.safetensors \\
              --real fashion-mnist:test --fake shards:data/gan
        """
    )

    @Option(help: "Classifier whose penultimate features are compared.") var model: String
    @Option(help: "Reference data spec.") var real: String
    @Option(help: "Compared data spec.") var fake: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let classifier = try ModelFile.loadClassifier(model)
        let a = try Dataset.load(spec: real), b = try Dataset.load(spec: fake)
        let fd = FrechetDistance.distance(try ClassifierFeatures.statistics(classifier, data: a),
                                          try ClassifierFeatures.statistics(classifier, data: b))
        if json {
            print(JSONOutput.string(FrechetReport(model: model, features: "\(classifier.card.arch) penultimate (\(classifier.featureDimension))",
                                                  real: real, fake: fake, realCount: a.count, fakeCount: b.count, distance: fd)))
        } else {
            print(String(format: "Frechet distance %.3f in %@ penultimate features (%@): %@ (%d) vs %@ (%d)",
                         fd, classifier.card.arch, model, real, a.count, fake, b.count))
        }
    }
}

struct FrechetReport: Encodable {
    let model: String
    let features: String
    let real: String
    let fake: String
    let realCount: Int
    let fakeCount: Int
    let distance: Double
}
