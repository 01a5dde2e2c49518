import Datasets
import Engine
import Foundation
import Models
import Support
@testable import Synth
import TestSupport
import Testing
import Training

/// A small in-memory dataset of blobs whose brightness depends on the class.
func toyDataset(count: Int = 48, classes: Int = 3, side: Int = 8, channels: Int = 1) -> Dataset {
    var rng = RNG(seed: 99)
    var pixels = [UInt8](repeating: 0, count: count * channels * side * side)
    var labels: [Int] = []
    for i in 0..<count {
        let label = i % classes
        labels.append(label)
        for j in 0..<(channels * side * side) {
            pixels[i * channels * side * side + j] = UInt8(min(255, Float(label) * 80 + rng.uniform() * 60))
        }
    }
    return Dataset(name: "toy", pixels: pixels, count: count, channels: channels, height: side, width: side,
                   labels: labels, classNames: (0..<classes).map { "class\($0)" })
}

func toyGAN(_ data: Dataset, block: GANConfig.Block = .concat, conditional: Bool = true) -> GANConfig {
    GANConfig(channels: data.channels, height: data.height, width: data.width, classNames: data.classNames,
              conditional: conditional, block: block, zDim: 8, generatorWidth: 4, discriminatorWidth: 4)
}

@Suite("GAN training")
struct GANTrainingTests {
    @Test("k steps, checkpoint, resume, m steps == k + m steps: same checkpoint bytes", arguments: [GANConfig.Block.add, .concat])
    func resumeIsExact(_ block: GANConfig.Block) throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let data = toyDataset()
        let gan = toyGAN(data, block: block)
        // 7 steps of batch 8 on 48 images crosses an epoch boundary (6 batches per epoch).
        let training = GANTrainingConfig(steps: 7, batchSize: 8, dSteps: 2, seed: 3)

        let straight = try GANTrainer(gan: gan, training: training, data: data)
        try straight.run()
        try straight.saveCheckpoint(to: dir.file("straight.safetensors"))

        let first = try GANTrainer(gan: gan, training: training, data: data)
        try first.setTotalSteps(4)
        try first.run(checkpoint: dir.file("part.safetensors"), checkpointEvery: 2)
        let resumed = try GANTrainer.resume(from: dir.file("part.safetensors"), data: data)
        #expect(resumed.step == 4)
        try resumed.setTotalSteps(7)
        try resumed.run()
        try resumed.saveCheckpoint(to: dir.file("resumed.safetensors"))

        let a = try Data(contentsOf: URL(fileURLWithPath: dir.file("straight.safetensors")))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir.file("resumed.safetensors")))
        #expect(a == b)
        // The exported generators agree too.
        try straight.exportGenerator(to: dir.file("g1.safetensors"))
        try resumed.exportGenerator(to: dir.file("g2.safetensors"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("g1.safetensors"))) == Data(contentsOf: URL(fileURLWithPath: dir.file("g2.safetensors"))))
    }

    @Test("a checkpoint holds G, D, EMA, both optimisers and the step")
    func checkpointContents() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let data = toyDataset()
        let t = try GANTrainer(gan: toyGAN(data), training: GANTrainingConfig(steps: 2, batchSize: 8), data: data)
        try t.run(checkpoint: dir.file("c.safetensors"))
        let file = try Safetensors.read(dir.file("c.safetensors"))
        #expect(file.metadata["step"] == "2")
        for prefix in ["g.", "d.", "ema.", "opt_g.", "opt_d."] {
            #expect(file.names.contains { $0.hasPrefix(prefix) }, "no \(prefix) entries")
        }
        #expect(file.entries["d.block1.c1.weight_u"] != nil)
        #expect(file.entries["opt_g.0.exp_avg_sq"] != nil)
    }

    @Test("the exported generator reloads with its card and samples identically")
    func exportRoundTrip() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let data = toyDataset()
        let t = try GANTrainer(gan: toyGAN(data, block: .add), training: GANTrainingConfig(steps: 3, batchSize: 8), data: data)
        try t.run()
        try t.exportGenerator(to: dir.file("g.safetensors"))
        let file = try Safetensors.read(dir.file("g.safetensors"))
        #expect(file.metadata["kind"] == "generator")
        #expect(file.metadata["arch"] == "resgan-g")
        let g = try GANFile.loadGenerator(dir.file("g.safetensors"))
        #expect(g.config == t.gan)
        let z = randn([4, 8], seed: 1, requiresGrad: false)
        let a = Autodiff.withoutGrad { g(z, labels: [0, 1, 2, 0]) }
        let b = Autodiff.withoutGrad { t.exportedGenerator()(z, labels: [0, 1, 2, 0]) }
        #expect(a.array == b.array)
    }

    @Test("bad inputs: one line naming the file")
    func badInputs() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let data = toyDataset()
        let t = try GANTrainer(gan: toyGAN(data), training: GANTrainingConfig(steps: 1, batchSize: 8), data: data)
        try t.run()
        let good = dir.file("g.safetensors")
        try t.exportGenerator(to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let truncated = dir.file("truncated.safetensors")
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: truncated))
        expectFileError(truncated) { _ = try GANFile.loadGenerator(truncated) }
        let garbage = dir.file("garbage.safetensors")
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: garbage))
        expectFileError(garbage) { _ = try GANSource(generatorPaths: [good, garbage]) }
        expectFileError(dir.file("missing.safetensors")) { _ = try GANFile.loadGenerator(dir.file("missing.safetensors")) }

        // A classifier is not a generator; a generator is not a training checkpoint.
        let card = ModelCard(kind: "classifier", arch: "ref-cnn", classNames: data.classNames, channels: 1, height: 8, width: 8, mean: [0.5], std: [0.5])
        let clf = try Architectures.classifier(card, seed: 0)
        let clfPath = dir.file("c.safetensors")
        try ModelFile.save(clf, to: clfPath)
        expectFileError(clfPath) { _ = try GANFile.loadGenerator(clfPath) }
        expectFileError(good) { _ = try GANTrainer.resume(from: good, data: data) }

        // A conditional generator cannot be conditioned through a classifier, and a classifier
        // must fit the generator's images and classes.
        expectFileError(good) { _ = try ConditionModels(generator: good, classifier: clfPath, judge: nil, classes: nil) }
        let u = try GANTrainer(gan: toyGAN(data, conditional: false), training: GANTrainingConfig(steps: 1, batchSize: 8), data: data)
        let uncond = dir.file("u.safetensors")
        try u.exportGenerator(to: uncond)
        expectFileError(clfPath) { _ = try ConditionModels(generator: uncond, classifier: clfPath, judge: nil, classes: 5) }
        let wide = try Architectures.classifier(ModelCard(kind: "classifier", arch: "ref-cnn", classNames: data.classNames,
                                                          channels: 1, height: 12, width: 12, mean: [0.5], std: [0.5]), seed: 0)
        let widePath = dir.file("wide.safetensors")
        try ModelFile.save(wide, to: widePath)
        expectFileError(widePath) { _ = try ConditionModels(generator: uncond, classifier: clfPath, judge: widePath, classes: nil) }
        #expect(try ConditionModels(generator: uncond, classifier: clfPath, judge: nil, classes: 2).classNames == ["class0", "class1"])
        // An unconditional generator is refused by the conditional source.
        expectFileError(uncond) { _ = try GANSource(generatorPaths: [uncond]) }
    }
}

/// Expects a SynthError whose single-line message starts with `file`.
func expectFileError(_ file: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("no error for \(file)", sourceLocation: sourceLocation)
    } catch let e as SynthError {
        #expect(e.message.hasPrefix(file + ":"), "\(e.message)", sourceLocation: sourceLocation)
        #expect(!e.message.contains("\n"), sourceLocation: sourceLocation)
    } catch {
        Issue.record("not a SynthError: \(error)", sourceLocation: sourceLocation)
    }
}
