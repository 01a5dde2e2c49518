import ArgumentParser
import Datasets
import Engine
import Foundation
import Models
import Trainer

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a classifier checkpoint on a dataset: accuracy overall and per class.",
        discussion: """
        Examples:
          synth eval --model models/teacher-ref-cnn.safetensors --data fashion-mnist:test
          synth eval --model m.safetensors --data shards:out/ --json
        """
    )

    @Option(help: "Classifier checkpoint (.safetensors).") var model: String
    @Option(help: "Data spec to evaluate on.") var data: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let classifier = try ModelFile.loadClassifier(model)
        let dataset = try Dataset.load(spec: data)
        guard dataset.classNames.count <= classifier.card.classes else {
            throw SynthError("\(data): has \(dataset.classNames.count) classes, the model \(model) only \(classifier.card.classes)")
        }
        let ev = try Evaluation.run(classifier, on: dataset)
        if json {
            print(JSONOutput.string(EvalReport(model: model, data: data, evaluation: ev)))
        } else {
            print(String(format: "accuracy %.4f  error %.4f  loss %.4f  (%d samples, %@)", ev.accuracy, ev.error, ev.meanLoss, ev.samples, data))
            for (i, acc) in ev.perClassAccuracy.enumerated() where !acc.isNaN {
                print(String(format: "  %2d %-14@ %.4f", i, ev.classNames[i], acc))
            }
        }
    }
}

struct EvalReport: Encodable {
    let model: String
    let data: String
    let accuracy: Double
    let error: Double
    let loss: Double
    let samples: Int
    let perClassAccuracy: [String: Double]
    let confusion: [[Int]]

    init(model: String, data: String, evaluation ev: Evaluation) {
        self.model = model; self.data = data
        accuracy = ev.accuracy; error = ev.error; loss = ev.meanLoss; samples = ev.samples
        perClassAccuracy = Dictionary(uniqueKeysWithValues: ev.perClassAccuracy.enumerated().filter { !$0.element.isNaN }.map { (ev.classNames[$0.offset], $0.element) })
        confusion = ev.confusion
    }
}
