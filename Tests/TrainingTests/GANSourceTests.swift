import Engine
import Foundation
import Models
import Support
@testable import Synth
@testable import Training
@testable import Measure
import TestSupport
import Testing

@Suite("GAN sources")
struct GANSourceTests {
    func generators(_ n: Int, conditional: Bool = true) -> [ResGANGenerator] {
        let data = toyDataset()
        return (0..<n).map { s in
            var rng = RNG(seed: UInt64(100 + s))
            let g = ResGANGenerator(toyGAN(data, conditional: conditional), rng: &rng)
            // Class tables away from their (class-blind) initial values.
            for s in g.stateDict() where s.name.hasSuffix("gain.weight") || s.name.hasSuffix("bias.weight") {
                rng.fillNormal(s.tensor.ptr, count: s.tensor.count, mean: s.name.hasSuffix("gain.weight") ? 1 : 0, std: 0.5)
            }
            g.recomputeStatistics(batches: 2, batchSize: 8, seed: 1)
            return g
        }
    }

    @Test("generate is deterministic in (label, count, seed), values in [0, 1]")
    func determinism() throws {
        let source = try GANSource(generators: generators(3), files: ["a", "b", "c"])
        let a = try source.generate(label: 1, count: 20, seed: 42)
        let b = try source.generate(label: 1, count: 20, seed: 42)
        #expect(a.shape == [20, 1, 8, 8])
        #expect(a.array == b.array)
        #expect(a.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(try source.generate(label: 1, count: 20, seed: 43).array != a.array)
        #expect(try source.generate(label: 2, count: 20, seed: 42).array != a.array)
        #expect(source.sourceName == "gan" && source.modelFiles == ["a", "b", "c"])
        #expect(throws: SynthError.self) { try source.generate(label: 3, count: 1, seed: 0) }
    }

    @Test("each sample comes from one generator, chosen per sample from the seed")
    func severalGenerators() throws {
        let gs = generators(2)
        let both = try GANSource(generators: gs, files: ["a", "b"])
        let x = try both.generate(label: 0, count: 16, seed: 7)
        // Recompute every sample with each generator alone from its own latent.
        var used = Set<Int>()
        for i in 0..<16 {
            var rng = RNG(seed: RNG.derive(7, UInt64(i)))
            let k = rng.int(below: 2)
            let z = Tensor((0..<8).map { _ in rng.normal() }, shape: [1, 8])
            let y = Autodiff.withoutGrad { gs[k](z, labels: [0]) }
            for j in 0..<64 { #expect(abs((y[j] + 1) / 2 - x[i * 64 + j]) < 1e-5) }
            used.insert(k)
        }
        #expect(used == [0, 1])
    }

    @Test("latent_scale scales z; class_mix blends the class rows and keeps the unmixed samples as they were")
    func samplingOptions() throws {
        let gs = generators(2)
        let plain = try GANSource(generators: gs, files: ["a", "b"])
        let base = try plain.generate(label: 1, count: 24, seed: 5)
        // The defaults, given explicitly, draw exactly what the source drew without them.
        let explicit = try GANSource(generators: gs, files: ["a", "b"],
                                     sampling: GANSampling(options: ["latent_scale": "1", "class_mix": "0"]))
        #expect(try explicit.generate(label: 1, count: 24, seed: 5).array == base.array)
        #expect(explicit.settings == plain.settings)

        // latent_scale: sample i is generator k's image of scale * z.
        let scaled = try GANSource(generators: gs, files: ["a", "b"], sampling: GANSampling(latentScale: 2))
        let xs = try scaled.generate(label: 1, count: 4, seed: 5)
        for i in 0..<4 {
            var rng = RNG(seed: RNG.derive(5, UInt64(i)))
            let k = rng.int(below: 2)
            let z = Tensor((0..<8).map { _ in 2 * rng.normal() }, shape: [1, 8])
            let y = Autodiff.withoutGrad { gs[k](z, labels: [1]) }
            for j in 0..<64 { #expect(abs((y[j] + 1) / 2 - xs[i * 64 + j]) < 1e-5) }
        }
        #expect(scaled.settings["latent_scale"] == "2.0")

        // class_mix: the mixed samples change, the others are their unmixed selves, and a mixed
        // sample is the generator run on the blended rows of its two classes.
        let mixed = try GANSource(generators: gs, files: ["a", "b"], sampling: GANSampling(classMix: 0.5))
        let xm = try mixed.generate(label: 1, count: 24, seed: 5)
        var changed = 0, kept = 0
        for i in 0..<24 {
            var rng = RNG(seed: RNG.derive(5, UInt64(i)))
            let k = rng.int(below: 2)
            let z = Tensor((0..<8).map { _ in rng.normal() }, shape: [1, 8])
            let same = (0..<64).allSatisfy { j in xm[i * 64 + j] == base[i * 64 + j] }
            if rng.uniform() < 0.5 {
                let o = rng.int(below: 2), other = o >= 1 ? o + 1 : o
                let w = 0.5 + 0.5 * rng.uniform()
                #expect(other != 1 && w >= 0.5 && w < 1)
                let y = Autodiff.withoutGrad { gs[k](z, labels: [1], mix: ClassMix(other: [other], weight: [w])) }
                for j in 0..<64 { #expect(abs((y[j] + 1) / 2 - xm[i * 64 + j]) < 1e-5) }
                if !same { changed += 1 }
            } else {
                #expect(same, "sample \(i) was not mixed yet changed")
                kept += 1
            }
        }
        #expect(changed > 0 && kept > 0)
        #expect(mixed.settings["class_mix"] == "0.5")
    }

    @Test("a build of some classes blends only inside them; over all classes the draw is unchanged")
    func blendsKeepToTheBuildsClasses() throws {
        let gs = generators(2)
        let all = try GANSource(generators: gs, files: ["a", "b"], sampling: GANSampling(classMix: 0.5))
        let xAll = try all.generate(label: 1, count: 24, seed: 5)
        let told = try GANSource(generators: gs, files: ["a", "b"], sampling: GANSampling(classMix: 0.5))
        told.drawOnly(classes: [2, 0, 1])
        #expect(try told.generate(label: 1, count: 24, seed: 5).array == xAll.array)
        #expect(told.settings == all.settings)

        // Classes 1 and 2: every blended sample of class 1 takes class 2 as its partner.
        let pair = try GANSource(generators: gs, files: ["a", "b"], sampling: GANSampling(classMix: 0.5))
        pair.drawOnly(classes: [1, 2])
        #expect(pair.settings["class_mix_classes"] == "1,2")
        let xp = try pair.generate(label: 1, count: 24, seed: 5)
        var blended = 0
        for i in 0..<24 {
            var rng = RNG(seed: RNG.derive(5, UInt64(i)))
            let k = rng.int(below: 2)
            let z = Tensor((0..<8).map { _ in rng.normal() }, shape: [1, 8])
            guard rng.uniform() < 0.5 else { continue }
            _ = rng.int(below: 1)
            let w = 0.5 + 0.5 * rng.uniform()
            let y = Autodiff.withoutGrad { gs[k](z, labels: [1], mix: ClassMix(other: [2], weight: [w])) }
            for j in 0..<64 { #expect(abs((y[j] + 1) / 2 - xp[i * 64 + j]) < 1e-5) }
            blended += 1
        }
        #expect(blended > 0)

        // One class: nothing to blend with, so the plain draws.
        let plain = try GANSource(generators: gs, files: ["a", "b"])
        let alone = try GANSource(generators: gs, files: ["a", "b"], sampling: GANSampling(classMix: 0.5))
        alone.drawOnly(classes: [1])
        #expect(try alone.generate(label: 1, count: 24, seed: 5).array == plain.generate(label: 1, count: 24, seed: 5).array)
    }

    @Test("a class mix of weight 1, or with the sample's own class, is no mix; weights blend the class rows linearly")
    func classMixRows() throws {
        let g = generators(1)[0]
        var rng = RNG(seed: 3)
        let z = Tensor((0..<(4 * 8)).map { _ in rng.normal() }, shape: [4, 8])
        let labels = [0, 1, 2, 1]
        let plain = Autodiff.withoutGrad { g(z, labels: labels) }
        let none = Autodiff.withoutGrad { g(z, labels: labels, mix: ClassMix(other: [2, 0, 1, 1], weight: [1, 1, 1, 0.3])) }
        for j in 0..<plain.count { #expect(abs(plain[j] - none[j]) < 1e-6) }
        // In one conditional batch norm, w = 0.25 between classes 0 and 2 is the 0.25/0.75 blend of their rows.
        let bn = g.generatorNorms[0]
        let x = Tensor((0..<(2 * bn.bn.channels * 4)).map { _ in rng.normal() }, shape: [2, bn.bn.channels, 2, 2])
        let y = Autodiff.withoutGrad { bn(x, labels: [0, 0], mix: ClassMix(other: [2, 2], weight: [0.25, 0.25])) }
        let a = Autodiff.withoutGrad { bn(x, labels: [0, 0]) }, b = Autodiff.withoutGrad { bn(x, labels: [2, 2]) }
        for j in 0..<y.count { #expect(abs(y[j] - (0.25 * a[j] + 0.75 * b[j])) < 1e-5) }
    }

    @Test("gan settings: unknown keys and values out of range are refused, naming the setting")
    func samplingRefusals() {
        for (key, value, needle) in [("latent_scale", "0", "latent_scale=0"), ("latent_scale", "nan", "latent_scale=nan"),
                                     ("latent_scale", "-1", "latent_scale=-1"), ("class_mix", "1.5", "class_mix=1.5"),
                                     ("class_mix", "x", "class_mix=x"), ("noise", "0.3", "unknown gan setting 'noise'")] {
            do {
                _ = try GANSampling(options: [key: value])
                Issue.record("\(key)=\(value) was accepted")
            } catch {
                #expect("\(error)".contains(needle), "\(error)")
            }
        }
    }

    @Test("latent-conditioned source: deterministic, z = mu + sigma * eps")
    func latentSource() throws {
        let g = generators(1, conditional: false)[0]
        var rng = RNG(seed: 5)
        let ig = InputGenerator(classNames: ["class0", "class1", "class2"], zDim: 8, hidden: 6, rng: &rng)
        ig.eval()
        let source = LatentGANSource(generator: g, inputGenerator: ig, files: ["g", "i"])
        let a = try source.generate(label: 2, count: 5, seed: 9)
        #expect(a.array == (try source.generate(label: 2, count: 5, seed: 9)).array)
        #expect(a.shape == [5, 1, 8, 8])
        #expect(try source.generate(label: 0, count: 0, seed: 9).shape == [0, 1, 8, 8])
    }

    @Test("input generator files round-trip; a mismatched latent size is refused naming the file")
    func inputGeneratorFiles() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let data = toyDataset()
        let t = try GANTrainer(gan: toyGAN(data, conditional: false), training: GANTrainingConfig(steps: 1, batchSize: 8), data: data)
        try t.run()
        try t.exportGenerator(to: dir.file("u.safetensors"))
        var rng = RNG(seed: 1)
        let ig = InputGenerator(classNames: data.classNames, zDim: 8, rng: &rng)
        try ig.save(to: dir.file("i.safetensors"), imageShape: [1, 8, 8])
        let source = try LatentGANSource(generatorPath: dir.file("u.safetensors"), inputGeneratorPath: dir.file("i.safetensors"))
        #expect(source.classNames == data.classNames)
        let bad = InputGenerator(classNames: data.classNames, zDim: 9, rng: &rng)
        try bad.save(to: dir.file("bad.safetensors"), imageShape: [1, 8, 8])
        expectFileError(dir.file("bad.safetensors")) {
            _ = try LatentGANSource(generatorPath: dir.file("u.safetensors"), inputGeneratorPath: dir.file("bad.safetensors"))
        }
        expectFileError(dir.file("u.safetensors")) { _ = try InputGenerator.load(dir.file("u.safetensors")) }
    }

    @Test("input generator training lowers the classifier's cross-entropy and keeps sigma away from 0")
    func conditioning() throws {
        let data = toyDataset()
        var rng = RNG(seed: 3)
        let g = ResGANGenerator(toyGAN(data, conditional: false), rng: &rng)
        g.recomputeStatistics(batches: 2, batchSize: 8, seed: 1)
        let c = try Architectures.classifier(ModelCard(kind: "classifier", arch: "ref-cnn", classNames: data.classNames,
                                                       channels: 1, height: 8, width: 8, mean: [0.5], std: [0.5]), seed: 4)
        c.eval()
        let trainer = try InputGeneratorTrainer(generator: g, classifier: c, judge: c, classNames: data.classNames,
                                                config: ConditionConfig(epochs: 3, stepsPerEpoch: 20, batchSize: 16, learningRate: 1e-2,
                                                                        klWeight: 0.1, evalPerClass: 20))
        let reports = trainer.run()
        #expect(reports.count == 3)
        #expect(reports.last!.crossEntropy < reports.first!.crossEntropy)
        #expect(reports.last!.meanSigma > 0.2)
        #expect(reports.last!.accuracyJudge == reports.last!.accuracyC)
        // Settings that cannot train are refused before any work.
        for bad in [ConditionConfig(temperature: 0), ConditionConfig(temperature: .nan), ConditionConfig(klWeight: -1), ConditionConfig(learningRate: 0)] {
            #expect(throws: SynthError.self) { try bad.validate() }
        }
    }
}

@Suite("Frechet distance")
struct FrechetTests {
    @Test("Jacobi eigen-decomposition reconstructs the matrix")
    func eigen() {
        var rng = RNG(seed: 1)
        let n = 12
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let v = Double(rng.normal()); m[i * n + j] = v; m[j * n + i] = v } }
        let (l, v) = FrechetDistance.symmetricEigen(m, n: n)
        for i in 0..<n {
            for j in 0..<n {
                var s = 0.0
                for k in 0..<n { s += v[i * n + k] * l[k] * v[j * n + k] }
                #expect(abs(s - m[i * n + j]) < 1e-9)
            }
        }
    }

    @Test("closed forms: equal sets give 0; diagonal covariances give |dmu|^2 + sum (sqrt a - sqrt b)^2")
    func closedForms() {
        var rng = RNG(seed: 2)
        let n = 4000, d = 3
        var a = [Float](repeating: 0, count: n * d), b = a
        let sa: [Float] = [1, 2, 0.5], sb: [Float] = [2, 1, 0.5], mb: [Float] = [1, 0, -1]
        for i in 0..<n {
            for j in 0..<d {
                a[i * d + j] = sa[j] * rng.normal()
                b[i * d + j] = mb[j] + sb[j] * rng.normal()
            }
        }
        let ga = a.withUnsafeBufferPointer { GaussianStatistics(features: $0.baseAddress!, count: n, dim: d) }
        let gb = b.withUnsafeBufferPointer { GaussianStatistics(features: $0.baseAddress!, count: n, dim: d) }
        #expect(abs(FrechetDistance.distance(ga, ga)) < 1e-9)
        // |dmu|^2 = 2, sum (sqrt a - sqrt b)^2 = (1 - 2)^2 + (2 - 1)^2 = 2, up to sampling error.
        #expect(abs(FrechetDistance.distance(ga, gb) - 4) < 0.25)
        // Exact check with diagonal statistics built by hand.
        let da = GaussianStatisticsFixture.diagonal(mean: [0, 0], variances: [4, 1])
        let db = GaussianStatisticsFixture.diagonal(mean: [1, 2], variances: [1, 9])
        #expect(abs(FrechetDistance.distance(da, db) - (5 + 1 + 4)) < 1e-5)
    }
}

enum GaussianStatisticsFixture {
    /// Statistics with exactly the given diagonal covariance, from four mirrored points per axis.
    static func diagonal(mean: [Double], variances: [Double]) -> GaussianStatistics {
        let d = mean.count
        // 2d points: mean +- s_j * sqrt(n-1 / 2) e_j gives variance s_j^2 on axis j, 0 elsewhere.
        let n = 2 * d
        var f = [Float](repeating: 0, count: n * d)
        for j in 0..<d {
            let off = (variances[j] * Double(n - 1) / 2).squareRoot()
            for k in 0..<d { f[(2 * j) * d + k] = Float(mean[k]); f[(2 * j + 1) * d + k] = Float(mean[k]) }
            f[(2 * j) * d + j] += Float(off)
            f[(2 * j + 1) * d + j] -= Float(off)
        }
        return f.withUnsafeBufferPointer { GaussianStatistics(features: $0.baseAddress!, count: n, dim: d) }
    }
}
