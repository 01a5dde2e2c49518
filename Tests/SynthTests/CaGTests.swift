import Datasets
import Engine
import Foundation
@testable import Models
import Support
@testable import Synth
import TestSupport
import Testing
import Training

/// Small random networks for CaG's plumbing and gradients (no training needed).
enum Fixtures {
    /// Gray, or RGB with a mean and std of its own per channel (as CIFAR's).
    static func classifierCard(classes: Int, side: Int = 8, arch: String = "ref-cnn", channels: Int = 1) -> ModelCard {
        ModelCard(kind: "classifier", arch: arch, classNames: (0..<classes).map { "class\($0)" },
                  channels: channels, height: side, width: side,
                  mean: channels == 1 ? [0.3] : [0.49, 0.48, 0.45], std: channels == 1 ? [0.35] : [0.25, 0.24, 0.26])
    }

    /// A random classifier whose batch norms have non-trivial running statistics.
    static func classifier(classes: Int, side: Int = 8, seed: UInt64 = 1, arch: String = "ref-cnn", channels: Int = 1) throws -> Classifier {
        let model = try Architectures.classifier(classifierCard(classes: classes, side: side, arch: arch, channels: channels), seed: seed)
        var rng = RNG(seed: seed &+ 100)
        for (_, bn) in batchNormLayers(of: model) {
            for i in 0..<bn.channels {
                bn.runningMean.ptr[i] = 0.2 * rng.normal()
                bn.runningVar.ptr[i] = 0.5 + rng.uniform()
            }
        }
        model.eval()
        return model
    }

    static func reconstructor(side: Int = 8, seed: UInt64 = 2, channels: Int = 1) throws -> Reconstructor {
        try Reconstructor(card: Reconstructor.card(channels: channels, height: side, width: side, hiddenWidth: 4), seed: seed)
    }

    /// Made-up statistics with the right shapes for `model`.
    static func statistics(for model: Classifier, seed: UInt64 = 3) -> FeatureStatistics {
        var rng = RNG(seed: seed)
        let k = model.card.classes, d = model.featureDimension
        let layers = batchNormLayers(of: model).map { name, bn in
            FeatureStatistics.LayerStatistics(name: name, channels: bn.channels,
                                              classMean: (0..<(k * bn.channels)).map { _ in 0.3 * rng.normal() },
                                              classVar: (0..<(k * bn.channels)).map { _ in 0.2 + rng.uniform() })
        }
        return FeatureStatistics(classes: k, dimension: d,
                                 classMean: (0..<(k * d)).map { _ in abs(rng.normal()) },
                                 classStd: (0..<(k * d)).map { _ in 0.1 + rng.uniform() },
                                 classCounts: Array(repeating: 10, count: k), layers: layers,
                                 classifierSHA256: "test", data: "test")
    }

    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-cag-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }
}

@Suite struct CaGLossTests {
    /// Every term of the objective at once, through g and two classifiers (an ensemble), from a
    /// low-resolution sigmoid parameter upsampled and shifted: the analytic gradient w.r.t. x
    /// matches central differences. On three channels too (CIFAR's shape in small): g sees (x * m, m)
    /// with one mask per pixel over the channels, and the batch-norm prior and the distribution loss
    /// work on the RGB networks' layers.
    @Test(arguments: [(CaGConfig.BNStatistics.perClass, CaGConfig.View.reconstruction, 1), (.running, .image, 1), (.perClass, .both, 1),
                      (.perClass, .both, 3)])
    func compositeObjectiveGradient(bn: CaGConfig.BNStatistics, view: CaGConfig.View, channels: Int) throws {
        let f1 = try Fixtures.classifier(classes: 3, seed: 11, channels: channels)
        let f2 = try Fixtures.classifier(classes: 3, seed: 12, channels: channels)
        var config = CaGConfig()
        config.resolutions = [4, 8]
        config.lambdaDiv = 0.7
        config.lambdaDist = 0.9
        config.lambdaBn = 0.3
        config.bnStatistics = bn
        config.jitter = 1
        config.lambdaRec = 0.8
        config.lambdaTarget = 0.6
        config.lambdaTv = 0.5
        config.view = view
        let sampler = try CaGSampler(classifiers: [CaGClassifier(f1, statistics: Fixtures.statistics(for: f1, seed: 5)),
                                                   CaGClassifier(f2, statistics: Fixtures.statistics(for: f2, seed: 6))],
                                     reconstructor: try Fixtures.reconstructor(channels: channels), config: config)
        var rng = RNG(seed: 9)
        let labels = [0, 0, 0, 2, 2, 1]
        let mask = PatchMask.random(count: labels.count, height: 8, width: 8, patch: 4, ratio: 0.75, rng: &rng)
        let targets = sampler.featureTargets(labels: labels, rng: &rng)
        let x = randn([labels.count, channels, 4, 4], seed: 21)
        // Every part contributes (none silently skipped).
        let (_, parts) = sampler.objective(parameter: x, labels: labels, mask: mask, shift: (1, -1), targets: targets)
        #expect(parts.classification > 0 && parts.diversity != 0 && parts.distribution > 0 && parts.batchNorm > 0)
        #expect(parts.reconstruction > 0 && parts.target > 0 && parts.totalVariation > 0)
        checkGradients([x], eps: 3e-3, rtol: 5e-2, atol: 3e-3) { inputs in
            sampler.objective(parameter: inputs[0], labels: labels, mask: mask, shift: (1, -1), targets: targets).0
        }
    }

    /// Each channel is normalised with its own mean and std from the card.
    @Test func normalisationIsPerChannel() throws {
        let f = try Fixtures.classifier(classes: 2, channels: 3)
        var config = CaGConfig()
        config.reconstructor = false
        config.lambdaBn = 0
        let sampler = try CaGSampler(classifiers: [CaGClassifier(f, statistics: nil)], reconstructor: nil, config: config)
        let image = Tensor((0..<(2 * 3 * 8 * 8)).map { Float($0 % 97) / 97 }, shape: [2, 3, 8, 8])
        let out = sampler.normalize(image, card: f.card).array, pixels = image.array
        for i in 0..<pixels.count {
            let c = i / 64 % 3
            #expect(abs(out[i] - (pixels[i] - f.card.mean[c]) / f.card.std[c]) < 1e-5)
        }
    }

    /// The stages come from the image side: side/4, side/2, side when 4 divides it.
    @Test func progressiveStagesFollowTheImageSide() {
        #expect(CaGConfig.progressive(side: 28) == [7, 14, 28])
        #expect(CaGConfig.progressive(side: 32) == [8, 16, 32])
        #expect(CaGConfig.progressive(side: 30) == [30])
        var config = CaGConfig()
        #expect(config.stages(forSide: 32) == [8, 16, 32] && config.totalSteps(side: 32) == 3 * 70)
        config.progressive = false
        #expect(config.stages(forSide: 32) == [32])
    }

    /// A 3x32x32 sampler runs 8 -> 16 -> 32 with the reconstruction module, blur, jitter and the
    /// batch-norm prior, and emits RGB samples in [0, 1].
    @Test func rgbSamplesAtThirtyTwoGrowFromEight() throws {
        let f = try Fixtures.classifier(classes: 3, side: 32, channels: 3)
        var config = CaGConfig()
        config.stepsPerStage = [1]
        config.blurSigma = 0.8
        config.jitter = 2
        config.bnStatistics = .running
        config.output = .reconstruction
        config.outputMasks = 2
        let sampler = try CaGSampler(classifiers: [CaGClassifier(f, statistics: nil)],
                                     reconstructor: try Fixtures.reconstructor(side: 32, channels: 3), config: config)
        #expect(config.stages(forSide: sampler.side) == [8, 16, 32])
        var steps = 0
        let out = sampler.sample(labels: [0, 1], seed: 4) { _, parts in steps += 1; #expect(parts.total.isFinite && parts.batchNorm > 0) }
        #expect(steps == 3 && out.shape == [2, 3, 32, 32])
        #expect(out.array.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// The same without the reconstruction module and with the clamp parameterisation at full size.
    @Test func objectiveGradientWithoutReconstructor() throws {
        let f = try Fixtures.classifier(classes: 4, seed: 13)
        var config = CaGConfig()
        config.progressive = false
        config.reconstructor = false
        config.parameterization = .clamp
        config.lambdaBn = 0
        config.lambdaDiv = 0.5
        config.lambdaDist = 0.5
        let sampler = try CaGSampler(classifiers: [CaGClassifier(f, statistics: Fixtures.statistics(for: f))],
                                     reconstructor: nil, config: config)
        let x = randn([5, 1, 8, 8], seed: 22, scale: 0.3)
        checkGradients([x], eps: 3e-3, rtol: 5e-2, atol: 3e-3) { inputs in
            sampler.objective(parameter: inputs[0], labels: [1, 1, 3, 3, 3], mask: nil).0
        }
    }

    @Test func diversityLossIsTheMeanSameClassCosine() throws {
        let h = Tensor([1, 0, 0, 1, 1, 1, 3, 4], shape: [4, 2])
        let loss = try #require(CaGLosses.diversity(h, labels: [0, 0, 1, 0]))
        // Class 0: rows 0, 1, 3 -> cosines (0,1): 0, (0,3): 0.6, (1,3): 0.8, each pair twice; 6 ordered pairs.
        #expect(abs(loss.item - (2 * (0 + 0.6 + 0.8)) / 6) < 1e-6)
        #expect(CaGLosses.diversity(h, labels: [0, 1, 2, 3]) == nil)
    }

    @Test func totalVariationIsTheMeanSquaredNeighbourDifference() throws {
        // 2 channels of 2x3: the first a ramp along x, the second constant.
        let image = Tensor([0, 1, 3, 0, 1, 3, 5, 5, 5, 5, 5, 5], shape: [1, 2, 2, 3])
        // Channel 0 over the 1x2 valid windows: horizontal differences 1, 2 (squared 1, 4), vertical 0, 0;
        // channel 1: all 0. Mean over 2 directions x 2 channels x 2 windows = 5 / 8.
        #expect(abs(CaGLosses.totalVariation(image).item - 5.0 / 8) < 1e-6)
        #expect(CaGLosses.totalVariation(Tensor(filled: 0.3, shape: [2, 1, 5, 5])).item == 0)
    }

    @Test func distributionLossMatchesTheFormula() throws {
        let h = Tensor([1, 2, 3, 6, 5, 10], shape: [3, 2])
        // One class: mean (3, 6), unbiased std (2, 4).
        let loss = try #require(CaGLosses.distribution(h, labels: [1, 1, 1], classMean: [0, 0, 2, 5], classStd: [0, 0, 1, 1]))
        let expected: Float = ((1 + 1) + (1 + 9)) / 2
        #expect(abs(loss.item - expected) < 1e-3)
    }

    /// Noise falls linearly from its level at the first step to 0 at noise-until of the run, then stays 0.
    @Test func noiseAnnealsToZeroAtNoiseUntil() {
        var config = CaGConfig()
        config.noise = 0.6
        config.noiseUntil = 1
        #expect(config.noiseSigma(step: 0, totalSteps: 210) == 0.6)
        #expect(abs(config.noiseSigma(step: 105, totalSteps: 210) - 0.3) < 1e-6)
        #expect(config.noiseSigma(step: 209, totalSteps: 210) > 0)
        config.noiseUntil = 2.0 / 3
        #expect(abs(config.noiseSigma(step: 70, totalSteps: 210) - 0.3) < 1e-6)
        #expect(config.noiseSigma(step: 140, totalSteps: 210) == 0 && config.noiseSigma(step: 200, totalSteps: 210) == 0)
        #expect(config.noiseSigma(step: 139, totalSteps: 210) > 0)
        config.noise = 0
        #expect(config.noiseSigma(step: 0, totalSteps: 210) == 0)
        config.noiseUntil = 0
        #expect(config.problem(imageSide: 28) != nil)
    }

    @Test func gradientBlurNoiseAndProgressiveStagesRun() throws {
        let f = try Fixtures.classifier(classes: 3)
        var config = CaGConfig()
        config.resolutions = [2, 4, 8]
        config.stepsPerStage = [2, 2, 3]
        config.blurSigma = 1
        config.noise = 0.5
        config.lambdaBn = 0
        var steps = 0
        let sampler = try CaGSampler(classifiers: [CaGClassifier(f, statistics: nil)], reconstructor: try Fixtures.reconstructor(), config: config)
        let out = sampler.sample(labels: [0, 1, 2, 2], seed: 3) { _, parts in steps += 1; #expect(parts.total.isFinite) }
        #expect(steps == 7)
        #expect(out.shape == [4, 1, 8, 8])
        #expect(out.array.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

@Suite struct CaGSettingsTests {
    @Test func optionsOverrideDefaults() throws {
        let c = try CaGConfig(options: ["steps_per_stage": "10,20,30", "lr": "0.2", "reconstructor": "false", "output": "reconstruction",
                                        "view": "both", "lambda_bn": "0.5", "progressive": "no", "lambda_target": "2", "noise": "0.1"])
        #expect(c.stepsPerStage == [10, 20, 30] && c.lr == 0.2 && !c.reconstructor && !c.progressive)
        #expect(c.output == .x, "without g the reconstruction cannot be emitted")
        #expect(c.view == .both && c.lambdaBn == 0.5 && c.lambdaTarget == 2 && c.noise == 0.1)
        #expect(try CaGConfig(options: [:]) == CaGConfig())
    }

    /// One spelling a setting: the option key is the summary key, and the summary read back as
    /// options is the same config.
    @Test func summaryKeysAreOptionKeysAndReadBack() throws {
        var c = CaGConfig()
        c.resolutions = [7, 28]; c.stepsPerStage = [3, 4]; c.noiseUntil = 0.3; c.parameterization = .clamp; c.batch = 5
        #expect(Set(c.summary.keys) == CaGConfig.optionKeys.subtracting(["ensemble"]))
        #expect(try CaGConfig(options: c.summary) == c)
        #expect(try CaGConfig(options: CaGConfig().summary) == CaGConfig())
    }

    /// The manifest's source summary of the defaults, as builds have written it (outside tools read it).
    @Test func defaultSummaryIsTheManifestsSpelling() {
        #expect(CaGConfig().summary == [
            "steps_per_stage": "70", "lr": "0.05", "beta1": "0.9", "progressive": "true", "resolutions": "", "reconstructor": "true",
            "view": "image", "output": "x", "output_masks": "8", "lambda_div": "0.1", "lambda_dist": "0.0", "lambda_target": "0.0",
            "lambda_rec": "5.0", "lambda_bn": "0.1", "bn_statistics": "class", "lambda_tv": "0.0", "blur_sigma": "0.0", "noise": "0.6",
            "noise_until": "0.6666667", "jitter": "0", "parameterization": "sigmoid", "init_pixel": "0.5", "init_spread": "1.0", "batch": "64",
        ])
    }

    /// The keys before one spelling a setting are still taken (scripts and old manifests' commands
    /// use them), but not beside the key itself.
    @Test func formerKeysAreStillAccepted() throws {
        let former = try CaGConfig(options: ["steps": "2,2,2", "bn-loss": "0.3", "emit": "reconstruction", "lambda-div": "0",
                                             "blur": "1", "param": "clamp", "bn-stats": "running", "noise-until": "0.5"])
        var expected = CaGConfig()
        expected.stepsPerStage = [2, 2, 2]; expected.lambdaBn = 0.3; expected.output = .reconstruction; expected.lambdaDiv = 0
        expected.blurSigma = 1; expected.parameterization = .clamp; expected.bnStatistics = .running; expected.noiseUntil = 0.5
        #expect(former == expected)
        do {
            _ = try CaGConfig(options: ["steps": "2", "steps_per_stage": "3"])
            Issue.record("a setting given under two keys was accepted")
        } catch let e as SynthError {
            #expect(e.message.contains("steps_per_stage given twice"), "\(e.message)")
        }
    }

    @Test func badOptionsAreClearErrors() {
        for (key, value, fragment) in [("stepz", "1", "unknown CaG setting 'stepz'"), ("lr", "fast", "lr=fast: expected a number"),
                                       ("output", "gx", "expected x or reconstruction"), ("progressive", "maybe", "expected true or false"),
                                       ("batch", "1.5", "batch=1.5: expected an integer"), ("steps_per_stage", "2,x", "expected integers")] {
            do {
                _ = try CaGConfig(options: [key: value])
                Issue.record("\(key)=\(value) accepted")
            } catch let e as SynthError {
                #expect(e.message.contains(fragment), "\(e.message)")
            } catch { Issue.record("\(error)") }
        }
    }

    @Test func missingDefaultModelsNameTheFile() {
        do {
            _ = try CaGSource.make(classifier: nil, reconstructor: nil, options: [:], modelsDirectory: "/nonexistent-models")
            Issue.record("expected an error")
        } catch let e as SynthError {
            #expect(e.message.contains("/nonexistent-models/teacher-ref-cnn.safetensors"))
        } catch { Issue.record("\(error)") }
    }
}

@Suite struct CaGSourceTests {
    static func source(classes: Int, config: CaGConfig = CaGConfig(), lanes: Int = 2) throws -> CaGSource {
        var c = config
        c.stepsPerStage = [3]
        c.batch = 4
        c.lambdaBn = 0   // the fixture classifier has no statistics
        // One copy of the (deterministic) fixture models per lane, as CaGSource loads them.
        return CaGSource(samplers: try (0..<lanes).map { _ in
            try CaGSampler(classifiers: [CaGClassifier(try Fixtures.classifier(classes: classes), statistics: nil)],
                           reconstructor: try Fixtures.reconstructor(), config: c)
        })
    }

    @Test func generateIsDeterministicInItsArguments() throws {
        var config = CaGConfig()
        config.output = .reconstruction
        config.jitter = 1
        let a = try Self.source(classes: 3, config: config), b = try Self.source(classes: 3, config: config)
        let x1 = try a.generate(label: 2, count: 6, seed: 42)   // two joint batches (3 + 3)
        let x2 = try b.generate(label: 2, count: 6, seed: 42)
        #expect(x1.shape == [6, 1, 8, 8])
        #expect(x1.array == x2.array)
        #expect(try a.generate(label: 2, count: 6, seed: 43).array != x1.array)
        #expect(try a.generate(label: 1, count: 6, seed: 42).array != x1.array)
        #expect(x1.array.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// Batches run side by side, one per lane; the samples must not depend on how many lanes
    /// there are, nor on which lane optimised which batch.
    @Test func samplesDoNotDependOnTheLaneCount() throws {
        var config = CaGConfig()
        config.lambdaDiv = 0.1
        let one = try Self.source(classes: 3, config: config, lanes: 1)
        let two = try Self.source(classes: 3, config: config, lanes: 2)
        let three = try Self.source(classes: 3, config: config, lanes: 3)
        let x1 = try one.generate(label: 1, count: 11, seed: 7)   // three batches: 3 + 4 + 4
        #expect(try two.generate(label: 1, count: 11, seed: 7).array == x1.array)
        #expect(try three.generate(label: 1, count: 11, seed: 7).array == x1.array)
        // Each batch is its own joint optimisation: the first 3 samples are those of a 3-sample call
        // with the same derived seed, whatever else ran beside them.
        let batch0 = one.sampler.sample(labels: [1, 1, 1], seed: RNG.derive(7, 1, 0))
        #expect(Array(x1.array[0..<(3 * 64)]) == batch0.array)
        // A round smaller than one batch still splits in two (both cores work), by count alone.
        let small = try one.generate(label: 2, count: 3, seed: 8)
        #expect(try two.generate(label: 2, count: 3, seed: 8).array == small.array)
        #expect(Array(small.array[0..<64]) == one.sampler.sample(labels: [2], seed: RNG.derive(8, 2, 0)).array)
    }

    /// --classes 100 with a 100-class classifier goes through, down to the last class.
    @Test func hundredClasses() throws {
        let s = try Self.source(classes: 100)
        try s.checkClasses(100)
        #expect(s.classNames.count == 100)
        let x = try s.generate(label: 99, count: 3, seed: 1)
        #expect(x.shape == [3, 1, 8, 8])
    }

    /// The same through checkpoint files, as `synth build` loads them.
    @Test func hundredClassesFromFiles() throws {
        let path = Fixtures.tempPath("c100.safetensors"), rpath = Fixtures.tempPath("r8.safetensors")
        try ModelFile.save(try Fixtures.classifier(classes: 100), to: path)
        try ReconstructorFile.save(try Fixtures.reconstructor(), to: rpath)
        var config = CaGConfig()
        config.stepsPerStage = [2]
        config.batch = 2
        config.lambdaBn = 0
        let s = try CaGSource(classifiers: [path], reconstructor: rpath, config: config)
        try s.checkClasses(100)
        #expect(try s.generate(label: 57, count: 2, seed: 0).shape == [2, 1, 8, 8])
        #expect(s.modelFiles == [path, rpath])
    }

    @Test func refusesMoreClassesThanTheClassifierKnows() throws {
        let s = try Self.source(classes: 10)
        #expect(throws: SynthError.self) { try s.checkClasses(100) }
        do { try s.checkClasses(100) } catch let e as SynthError {
            #expect(e.message.contains("knows 10 classes, 100 were requested"))
        }
        #expect(throws: SynthError.self) { _ = try s.generate(label: 10, count: 1, seed: 0) }
    }

    @Test func missingStatisticsAreAClearError() throws {
        let path = Fixtures.tempPath("nostats.safetensors")
        try ModelFile.save(try Fixtures.classifier(classes: 3), to: path)
        var config = CaGConfig()
        config.reconstructor = false
        config.lambdaDist = 0.1
        do {
            _ = try CaGSource(classifiers: [path], reconstructor: nil, config: config)
            Issue.record("expected an error")
        } catch let e as SynthError {
            #expect(e.message.contains("synth stats"))
        }
    }
}

@Suite struct ReconstructionModuleTests {
    @Test func masksHideExactlyTheRatioOfPatches() {
        var rng = RNG(seed: 1)
        let m = PatchMask.random(count: 5, height: 28, width: 28, patch: 4, ratio: 0.75, rng: &rng)
        for i in 0..<5 {
            let visible = (0..<(28 * 28)).filter { m.ptr[i * 784 + $0] == 1 }.count
            #expect(visible == 12 * 16)   // 49 patches, 37 hidden, 12 visible, 16 pixels each
            // Constant over each patch.
            for py in 0..<7 { for px in 0..<7 {
                let v = m.ptr[i * 784 + py * 4 * 28 + px * 4]
                for y in 0..<4 { for x in 0..<4 { #expect(m.ptr[i * 784 + (py * 4 + y) * 28 + px * 4 + x] == v) } }
            } }
        }
    }

    /// The MAE loss counts the hidden pixels only: it equals the mean squared error over them, and
    /// its gradient with respect to the reconstruction is zero on visible pixels.
    @Test func maeLossIsOnHiddenPatchesOnly() throws {
        let g = try Fixtures.reconstructor(side: 8)
        var rng = RNG(seed: 4)
        let x = Tensor(uninitialized: [3, 1, 8, 8])
        rng.fillUniform(x.ptr, count: x.count, low: -1, high: 1)
        let mask = PatchMask.random(count: 3, height: 8, width: 8, patch: 4, ratio: 0.75, rng: &rng)
        let y = Autodiff.withoutGrad { g(x, mask: mask) }
        var s = 0.0, n = 0
        for i in 0..<x.count where mask.ptr[i] == 0 { let d = Double(y.ptr[i] - x.ptr[i]); s += d * d; n += 1 }
        #expect(n == 3 * 3 * 16)
        let loss = Autodiff.withoutGrad { MAETrainer.loss(g, images: x, mask: mask) }
        #expect(abs(Double(loss.item) - s / Double(n)) < 1e-5)

        let pred = y.detached()
        pred.requiresGrad = true
        maskedMSE(pred, x, mask: 1 - mask).backward()
        for i in 0..<x.count where mask.ptr[i] == 1 { #expect(pred.grad!.pointer[i] == 0) }
        #expect((0..<x.count).contains { mask.ptr[$0] == 0 && pred.grad!.pointer[$0] != 0 })
    }

    @Test func reconstructorCheckpointRoundTrip() throws {
        let g = try Fixtures.reconstructor(side: 8, seed: 7)
        let path = Fixtures.tempPath("recon.safetensors")
        try ReconstructorFile.save(g, to: path)
        let back = try ReconstructorFile.load(path)
        #expect(back.stateDict().map(\.name) == ["e1.weight", "e1.bias", "e2.weight", "e2.bias", "d1.weight", "d1.bias", "d2.weight", "d2.bias"])
        for (a, b) in zip(g.stateDict(), back.stateDict()) { #expect(a.tensor.array == b.tensor.array) }
        #expect(back.card.kind == "reconstructor" && back.patch == 4 && back.maskRatio == 0.75)
        // A classifier file is not a reconstructor.
        let cpath = Fixtures.tempPath("notrecon.safetensors")
        try ModelFile.save(try Fixtures.classifier(classes: 3), to: cpath)
        let error = #expect(throws: SynthError.self) { _ = try ReconstructorFile.load(cpath) }
        #expect(error?.message.contains("\(cpath): holds a classifier, not a reconstructor (train one with synth train-mae)") == true,
                "\(String(describing: error))")
    }

    @Test func maeTrainingLowersTheHiddenError() throws {
        // Smooth random blobs: learnable from the visible quarter.
        var rng = RNG(seed: 5)
        var pixels: [UInt8] = []
        for _ in 0..<64 {
            let cx = Float(rng.int(below: 8)), cy = Float(rng.int(below: 8))
            for y in 0..<8 { for x in 0..<8 {
                let d = (Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)
                pixels.append(UInt8(255 * expf(-d / 8)))
            } }
        }
        let data = Dataset(name: "blobs", pixels: pixels, count: 64, channels: 1, height: 8, width: 8,
                                    labels: Array(repeating: 0, count: 64), classNames: ["blob"])
        let g = try Fixtures.reconstructor(side: 8)
        let before = MAETrainer.evaluate(g, on: data)
        try MAETrainer(steps: 60, batchSize: 16, learningRate: 3e-3).train(g, on: data)
        let after = MAETrainer.evaluate(g, on: data)
        #expect(after < 0.7 * before)
    }
}

@Suite struct FeatureStatisticsTests {
    @Test func computeSaveLoadAndRefuseStale() throws {
        let f = try Fixtures.classifier(classes: 2)
        var rng = RNG(seed: 8)
        let pixels = (0..<(6 * 64)).map { _ in UInt8(rng.int(below: 256)) }
        let data = Dataset(name: "rand", pixels: pixels, count: 6, channels: 1, height: 8, width: 8,
                                    labels: [0, 1, 0, 1, 1, 1], classNames: ["a", "b"])
        let stats = try FeatureStatistics.compute(f, data: data, classifierSHA256: "abc")
        #expect(stats.classCounts == [2, 4])
        #expect(stats.layers.map(\.name) == ["b1", "b2"])
        // Class 0's feature mean by hand.
        let x = Tensor(uninitialized: [6, 1, 8, 8])
        data.batch(indices: Array(0..<6), mean: f.card.mean, std: f.card.std, into: x.ptr)
        let h = Autodiff.withoutGrad { f.features(x) }
        let d = f.featureDimension
        for j in 0..<d {
            let m = (h.ptr[j] + h.ptr[2 * d + j]) / 2
            #expect(abs(stats.classMean[j] - m) < 1e-4)
        }
        let path = Fixtures.tempPath("f.stats.safetensors")
        try stats.save(to: path)
        let back = try FeatureStatistics.load(path, classifierSHA256: "abc")
        #expect(back.classMean == stats.classMean && back.classStd == stats.classStd)
        #expect(back.layers.map(\.classVar) == stats.layers.map(\.classVar))
        #expect(throws: SynthError.self) { _ = try FeatureStatistics.load(path, classifierSHA256: "other") }
        #expect(FeatureStatistics.sidecarPath(for: "models/a.safetensors") == "models/a.stats.safetensors")
    }
}
