import Datasets
import Filter
import Foundation
import Models
import Support
import Testing

/// The near-copy audit: GEMM nearest neighbours against brute force, exact copies found with
/// distance 0 and cosine 1, shares counted per class, rule thresholds honoured.
@Suite struct NearCopyTests {
    static func noise(_ count: Int, seed: UInt64, classes: Int = 4) -> Dataset {
        var rng = RNG(seed: seed)
        var pixels = [UInt8](repeating: 0, count: count * 784)
        for i in pixels.indices { pixels[i] = UInt8(rng.int(below: 256)) }
        return Dataset(name: "noise\(seed)", pixels: pixels, count: count, channels: 1, height: 28, width: 28,
                       labels: (0..<count).map { $0 % classes }, classNames: (0..<classes).map { "k\($0)" })
    }

    @Test(arguments: [3, 70, 600])
    func gemmSearchAgreesWithBruteForce(queries m: Int) {
        var rng = RNG(seed: 9)
        let n = 2500, dim = 37
        var q = [Float](repeating: 0, count: m * dim), b = [Float](repeating: 0, count: n * dim)
        rng.fillUniform(&q, count: q.count)
        rng.fillUniform(&b, count: b.count)
        let norms = NearestNeighbours.squaredNorms(b, count: n, dim: dim)
        let r = NearestNeighbours.search(queries: q, count: m, base: b, count: n, dim: dim, baseNorms: norms)
        for i in 0..<m {
            var best = Float.infinity, arg = -1
            for j in 0..<n {
                var d: Float = 0
                for k in 0..<dim { let t = q[i * dim + k] - b[j * dim + k]; d += t * t }
                if d < best { best = d; arg = j }
            }
            // Ties within float noise may pick another row at the same distance.
            #expect(r.index[i] == arg || abs(r.distanceSquared[i] - best) < 1e-4, "query \(i): \(r.index[i]) vs \(arg)")
            #expect(abs(r.distanceSquared[i] - best) < 1e-3 * max(1, best))
        }
    }

    @Test func exactCopiesAreFoundAndCounted() throws {
        let real = Self.noise(400, seed: 1)
        // 30 samples: 12 exact copies of real images (class 0, 1, 2 mixed) and 18 fresh images.
        let fresh = Self.noise(18, seed: 2)
        let copies = real.subset(indices: Array(stride(from: 5, to: 5 + 12 * 7, by: 7)))
        let synthetic = Dataset(name: "mixed", pixels: copies.pixels + fresh.pixels, count: 30, channels: 1, height: 28, width: 28,
                                labels: copies.labels + fresh.labels, classNames: real.classNames)
        let card = ModelCard(kind: "classifier", arch: "ref-cnn", classNames: real.classNames, channels: 1, height: 28, width: 28,
                             mean: [0.5], std: [0.3])
        let model = try Architectures.classifier(card, seed: 3)
        let index = try NearCopyIndex(real: real, featureModel: model)
        let (record, matches) = try NearCopyAudit.run(synthetic, index: index, rule: NearCopyRule(), chunk: 7)
        for i in 0..<12 {
            #expect(matches[i].realIndex == 5 + 7 * i && matches[i].pixelRMS == 0)
            #expect(abs(matches[i].cosine! - 1) < 1e-4)
        }
        // Uniform noise against uniform noise: RMS near sqrt(1/6) ~ 0.41, far above the threshold.
        for i in 12..<30 { #expect(matches[i].pixelRMS > 0.3) }
        #expect(record.samples == 30 && record.nearCopies == 12 && record.nearCopiesByPixels == 12)
        #expect(abs(record.share - 0.4) < 1e-12)
        #expect(record.perClass.reduce(0) { $0 + $1.nearCopies } == 12)
        #expect(record.perClass.map(\.samples).reduce(0, +) == 30)
        #expect(record.closest.prefix(12).allSatisfy { $0.pixelRMS == 0 })
        #expect(record.pixelRMS.min == 0 && record.cosine != nil)
        #expect(record.pixelHistogram.reduce(0, +) == 30)

        // A cosine rule of 0.9999 flags the same copies by features; a pixel threshold of 0 flags none by pixels.
        let (byCos, _) = try NearCopyAudit.run(synthetic, index: index, rule: NearCopyRule(pixelRMS: 0, cosine: 0.9999))
        #expect(byCos.nearCopiesByPixels == 0 && byCos.nearCopiesByFeatures >= 12)
        #expect(throws: SynthError.self) { try NearCopyAudit.run(synthetic, index: index, rule: NearCopyRule(pixelRMS: 2)) }
    }

    @Test func oneGrayLevelOffIsANearCopy() throws {
        let real = Self.noise(50, seed: 4)
        var shifted = real.pixels
        for i in 0..<784 { shifted[i] = shifted[i] < 255 ? shifted[i] + 1 : 254 }
        let one = Dataset(name: "shifted", pixels: Array(shifted[0..<784]), count: 1, channels: 1, height: 28, width: 28,
                          labels: [0], classNames: real.classNames)
        let index = try NearCopyIndex(real: real)
        let m = try one.pixels.withUnsafeBufferPointer { try index.match($0, count: 1) }[0]
        #expect(m.realIndex == 0 && abs(m.pixelRMS - 1.0 / 255) < 1e-9 && m.cosine == nil)
        #expect(NearCopyRule().isNearCopy(m))
    }

    @Test func summaryPercentilesInterpolate() {
        let s = DistanceSummary((0...100).map(Double.init))
        #expect(s.min == 0 && s.max == 100 && s.median == 50 && s.p01 == 1 && s.p95 == 95 && s.mean == 50)
    }
}
