import Datasets
import Engine
import Foundation
import Models
import Support
import Synth

extension FeatureStatistics {
    /// One pass over `data` in evaluation mode.
    public static func compute(_ model: Classifier, data: Dataset, classifierSHA256: String,
                               batchSize: Int = 500) throws -> FeatureStatistics {
        let k = model.card.classes, d = model.featureDimension
        guard data.channels == model.card.channels, data.height == model.card.height, data.width == model.card.width else {
            throw SynthError("\(data.name): images are \(data.channels)x\(data.height)x\(data.width), the classifier expects \(model.card.inputShape.map(String.init).joined(separator: "x"))")
        }
        if let bad = data.labels.first(where: { $0 < 0 || $0 >= k }) {
            throw SynthError("\(data.name): label \(bad) outside the classifier's \(k) classes")
        }
        let bns = batchNormLayers(of: model)
        var fSum = [Double](repeating: 0, count: k * d), fSq = fSum
        var counts = [Int](repeating: 0, count: k)
        var lSum = bns.map { [Double](repeating: 0, count: k * $0.layer.channels) }
        var lSq = lSum
        var lCount = bns.map { _ in [Double](repeating: 0, count: k) }
        var labels: [Int] = []
        for (li, bn) in bns.enumerated() {
            bn.layer.inputObserver = { x in
                let n = x.shape[0], c = x.shape[1], inner = x.count / max(n * c, 1)
                for i in 0..<n {
                    let y = labels[i]
                    for ch in 0..<c {
                        let p = x.ptr + (i * c + ch) * inner
                        var s = 0.0, q = 0.0
                        for j in 0..<inner { let v = Double(p[j]); s += v; q += v * v }
                        lSum[li][y * c + ch] += s; lSq[li][y * c + ch] += q
                    }
                    lCount[li][y] += Double(inner)
                }
            }
        }
        defer { for bn in bns { bn.layer.inputObserver = nil } }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        Autodiff.withoutGrad {
            data.forEachBatch(size: batchSize, normalisedFor: model.card) { idx, x in
                labels = idx.map { data.labels[$0] }
                let h = model.features(x)
                for (r, y) in labels.enumerated() {
                    counts[y] += 1
                    for j in 0..<d { let v = Double(h.ptr[r * d + j]); fSum[y * d + j] += v; fSq[y * d + j] += v * v }
                }
            }
        }
        var mean = [Float](repeating: 0, count: k * d), std = mean
        for y in 0..<k where counts[y] > 0 {
            let n = Double(counts[y])
            for j in 0..<d {
                let m = fSum[y * d + j] / n
                let v = n > 1 ? max(fSq[y * d + j] - n * m * m, 0) / (n - 1) : 0
                mean[y * d + j] = Float(m); std[y * d + j] = Float(v.squareRoot())
            }
        }
        let layers = bns.enumerated().map { li, bn -> LayerStatistics in
            let c = bn.layer.channels
            var lm = [Float](repeating: 0, count: k * c), lv = lm
            for y in 0..<k where lCount[li][y] > 0 {
                let n = lCount[li][y]
                for ch in 0..<c {
                    let m = lSum[li][y * c + ch] / n
                    lm[y * c + ch] = Float(m)
                    lv[y * c + ch] = Float(max(lSq[li][y * c + ch] / n - m * m, 0))
                }
            }
            return LayerStatistics(name: bn.name, channels: c, classMean: lm, classVar: lv)
        }
        return FeatureStatistics(classes: k, dimension: d, classMean: mean, classStd: std, classCounts: counts,
                                 layers: layers, classifierSHA256: classifierSHA256, data: data.name)
    }
}
