import Foundation
import Datasets
import Engine
import Models
import Support

/// Test-set performance of a classifier: accuracy overall and per class, and the confusion matrix.
public struct Evaluation: Sendable, Codable {
    public let samples: Int
    public let correct: Int
    public let meanLoss: Double
    /// confusion[true][predicted]
    public let confusion: [[Int]]
    public let classNames: [String]

    public var accuracy: Double { samples > 0 ? Double(correct) / Double(samples) : 0 }
    public var error: Double { 1 - accuracy }
    public var perClassAccuracy: [Double] {
        confusion.enumerated().map { i, row in
            let n = row.reduce(0, +)
            return n > 0 ? Double(row[i]) / Double(n) : .nan
        }
    }

    /// Runs the model in evaluation mode over the whole dataset in batches.
    public static func run(_ model: Classifier, on data: Dataset, batchSize: Int = 500) throws -> Evaluation {
        let k = model.card.classes
        if let bad = data.labels.first(where: { $0 < 0 || $0 >= k }) {
            throw SynthError("\(data.name): label \(bad) outside the model's \(k) classes")
        }
        var confusion = Array(repeating: Array(repeating: 0, count: k), count: k)
        var lossSum = 0.0
        try forEachBatch(model, on: data, batchSize: batchSize) { idx, logits in
            let labels = idx.map { data.labels[$0] }
            let loss = crossEntropy(logits, labels: labels).item
            guard loss.isFinite else { throw SynthError("evaluation on \(data.name) gave a non-finite loss: the model's weights are broken") }
            lossSum += Double(loss) * Double(idx.count)
            for r in 0..<idx.count {
                let row = logits.ptr + r * k
                var best = 0
                for j in 1..<k where row[j] > row[best] { best = j }
                confusion[labels[r]][best] += 1
            }
        }
        let correct = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
        return Evaluation(samples: data.count, correct: correct, meanLoss: lossSum / Double(max(data.count, 1)),
                          confusion: confusion, classNames: model.card.classNames)
    }

    /// The model's class probabilities for every image (count * classes, row after row), in
    /// evaluation mode: the labels a trained solver gives data it did not see labelled.
    public static func probabilities(_ model: Classifier, on data: Dataset, batchSize: Int = 500) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(data.count * model.card.classes)
        try forEachBatch(model, on: data, batchSize: batchSize) { _, logits in
            let p = softmax(logits)
            out.append(contentsOf: UnsafeBufferPointer(start: p.ptr, count: p.count))
        }
        return out
    }

    /// Every image's cross-entropy loss, -log softmax(logits)[label], computed in Double from the
    /// logits (a confident model's losses stay apart where Float probabilities would round to 1).
    public static func losses(_ model: Classifier, on data: Dataset, batchSize: Int = 500) throws -> [Double] {
        var out = [Double](repeating: 0, count: data.count)
        let k = model.card.classes
        try forEachBatch(model, on: data, batchSize: batchSize) { idx, logits in
            for (r, i) in idx.enumerated() {
                let row = logits.ptr + r * k
                var top = -Double.infinity
                for j in 0..<k { top = max(top, Double(row[j])) }
                var sum = 0.0
                for j in 0..<k { sum += Foundation.exp(Double(row[j]) - top) }
                let label = data.labels[i]
                guard label < k else { throw SynthError("\(data.name): label \(label) is outside the model's \(k) classes") }
                out[i] = top + Foundation.log(sum) - Double(row[label])
                guard out[i].isFinite else { throw SynthError("the model produced a non-finite logit: its weights are broken") }
            }
        }
        return out
    }

    /// The batched no-grad pass both share: body gets each batch's dataset indices and logits.
    static func forEachBatch(_ model: Classifier, on data: Dataset, batchSize: Int,
                             _ body: (_ indices: [Int], _ logits: Tensor) throws -> Void) throws {
        guard data.channels == model.card.channels, data.height == model.card.height, data.width == model.card.width else {
            throw SynthError("\(data.name): images are \(data.channels)x\(data.height)x\(data.width), the model expects \(model.card.inputShape.map(String.init).joined(separator: "x"))")
        }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        try Autodiff.withoutGrad {
            try data.forEachBatch(size: batchSize, normalisedFor: model.card) { idx, x in try body(idx, model(x)) }
        }
    }
}
