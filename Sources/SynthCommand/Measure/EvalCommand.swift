import ArgumentParser
import Datasets
import Filter
import Foundation
import Models
import Support
import Training

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a classifier checkpoint on a dataset: accuracy overall and per class.",
        discussion: """
        The data's classes are matched to the model's by name (see synth help, folder:DIR). --threshold T also reports, per class, the share of samples a build's filter with this model and threshold would keep (its top class is the label and p > T): what a filter would make of a candidate set, before spending a build on it.

        Examples:
          synth eval --model models/teacher-ref-cnn.safetensors \\
              --data fashion-mnist:test
          synth eval --model models/filter-ref-cnn.safetensors --data shards:data/cag \\
              --threshold 0.9 --json
        """
    )

    @Option(help: "Classifier: a checkpoint (.safetensors) or an ONNX model (.onnx).") var model: String
    @Option(help: "Data spec to evaluate on.") var data: String
    @Flag(help: "Print the result as JSON.") var json = false
    @Option(help: "Also report the share of each class a filter with this model would keep at this probability threshold.")
    var threshold: Double?

    func run() throws {
        let classifier = try ModelFile.loadClassifier(model)
        let loaded = try Dataset.load(spec: data)
        guard loaded.classNames.count <= classifier.card.classes else {
            throw SynthError("\(data): has \(loaded.classNames.count) classes, the model \(model) only \(classifier.card.classes)")
        }
        // The data's classes matched to the model's by name (a folder dataset numbers its own).
        let dataset = try loaded.inLabelSpace(of: classifier.card.classNames, named: model)
        let filter = try threshold.map { try ConfidenceFilter(classifiers: [classifier], names: [model], threshold: Float($0)) }
        let ev = try Evaluation.run(classifier, on: dataset)
        let kept = try filter.map { try FilterVerdicts($0, on: dataset) }
        if json {
            print(JSONOutput.string(EvalReport(model: model, data: data, evaluation: ev, threshold: threshold, kept: kept)))
        } else {
            print(String(format: "accuracy %.4f  error %.4f  loss %.4f  (%@, %@)", ev.accuracy, ev.error, ev.meanLoss, counted(ev.samples, "sample"), data))
            if let kept, let threshold { print(String(format: "a filter at p > %g keeps %.4f", threshold, kept.share)) }
            for (i, acc) in ev.perClassAccuracy.enumerated() where !acc.isNaN {
                let keptText = kept.map { String(format: "  kept %.4f", $0.perClassShare[i]) } ?? ""
                print(String(format: "  %2d %-14@ %.4f", i, ev.classNames[i], acc) + keptText)
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
    /// With --threshold: the filter's threshold, and the share of all samples and of each class it keeps.
    let filterThreshold: Double?
    let keptShare: Double?
    let perClassKeptShare: [String: Double]?

    init(model: String, data: String, evaluation ev: Evaluation, threshold: Double?, kept: FilterVerdicts?) {
        self.model = model; self.data = data
        accuracy = ev.accuracy; error = ev.error; loss = ev.meanLoss; samples = ev.samples
        perClassAccuracy = Dictionary(uniqueKeysWithValues: ev.perClassAccuracy.enumerated().filter { !$0.element.isNaN }.map { (ev.classNames[$0.offset], $0.element) })
        confusion = ev.confusion
        filterThreshold = threshold
        keptShare = kept?.share
        perClassKeptShare = kept.map { k in
            Dictionary(uniqueKeysWithValues: k.perClassShare.enumerated().filter { !$0.element.isNaN }.map { (ev.classNames[$0.offset], $0.element) })
        }
    }
}
