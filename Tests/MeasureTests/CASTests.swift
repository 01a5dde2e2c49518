import Datasets
import Foundation
@testable import Measure
import Support
import Testing

/// CAS and replay on tiny data: they run, report every class, honour --soft, and refuse label
/// spaces that do not fit.
@Suite struct CASTests {
    /// Stripes: class k lights row 2k (a trivially learnable task), 28x28 gray.
    static func stripes(_ count: Int, classes: Int = 10, seed: UInt64 = 1) -> Dataset {
        var rng = RNG(seed: seed)
        var pixels = [UInt8](repeating: 0, count: count * 784)
        var labels: [Int] = []
        for i in 0..<count {
            let k = i % classes
            labels.append(k)
            for p in 0..<784 { pixels[i * 784 + p] = p / 28 == 2 * k ? 255 : UInt8(rng.int(below: 40)) }
        }
        return Dataset(name: "stripes", pixels: pixels, count: count, channels: 1, height: 28, width: 28, labels: labels,
                       classNames: (0..<10).map { "c\($0)" })
    }

    @Test func reportsAccuracyAndEveryClass() throws {
        let train = Self.stripes(200), test = Self.stripes(100, seed: 2)
        let (r, _) = try CAS.run(train: train, test: test, settings: CASSettings(length: .steps(30), batchSize: 32, learningRate: 3e-3))
        #expect(r.steps == 30 && r.trainSamples == 200 && r.testSamples == 100)
        #expect(r.perClass.count == 10 && r.perClass.allSatisfy { $0.samples == 10 })
        #expect(r.accuracy > 0.5, "stripes should be easy: \(r.accuracy)")
        #expect(abs(r.error - (1 - r.accuracy)) < 1e-12)
        let json = try JSONDecoder().decode(CASResult.self, from: JSONEncoder().encode(r))
        #expect(json == r)
    }

    /// Soft targets at temperature T are p^(1/T) renormalised: rows sum to 1, T = 1 keeps them,
    /// T -> 0 tends to the argmax, T = 2 is the renormalised square root, and no row underflows.
    @Test func temperedTargetsAreNormalisedPowersOfTheStoredProbabilities() {
        let p: [Float] = [0.7, 0.2, 0.1, 0.25, 0.25, 0.5, 1, 0, 0]
        for t: Float in [0.05, 0.5, 1, 2, 10] {
            let q = CAS.tempered(p, classes: 3, temperature: t)
            for r in 0..<3 { #expect(abs(q[3 * r] + q[3 * r + 1] + q[3 * r + 2] - 1) < 1e-5, "T \(t) row \(r): \(q)") }
        }
        let same = CAS.tempered(p, classes: 3, temperature: 1)
        #expect(zip(same, p).allSatisfy { abs($0 - $1) < 1e-6 })
        let root = CAS.tempered(p, classes: 3, temperature: 2)
        let s = (Float(0.7).squareRoot() + Float(0.2).squareRoot() + Float(0.1).squareRoot())
        #expect(abs(root[0] - Float(0.7).squareRoot() / s) < 1e-5)
        let sharp = CAS.tempered(p, classes: 3, temperature: 0.01)
        #expect(sharp[0] > 0.999 && sharp[5] > 0.999 && sharp[6] > 0.999)
        #expect(sharp.allSatisfy { $0.isFinite })
    }

    @Test func seedSpreadIsTheMeanAndSampleDeviation() throws {
        let runs = try [0.80, 0.82, 0.84].enumerated().map { i, a -> CASResult in
            var r = try CAS.run(train: Self.stripes(20), test: Self.stripes(10, seed: 2), settings: CASSettings(length: .steps(1), batchSize: 8, seed: UInt64(i))).result
            r.accuracy = a
            return r
        }
        let s = SeedSpread(runs)
        #expect(s.seeds == [0, 1, 2])
        #expect(abs(s.mean - 0.82) < 1e-12 && abs(s.std - 0.02) < 1e-12 && s.min == 0.80 && s.max == 0.84)
        #expect(SeedSpread([runs[0]]).std == 0)
    }

    @Test func epochsCountPassesOverTheTrainingSet() throws {
        let (r, _) = try CAS.run(train: Self.stripes(100), test: Self.stripes(20, seed: 3),
                                 settings: CASSettings(length: .epochs(2), batchSize: 32))
        #expect(r.steps == 8)  // 2 x ceil(100 / 32)
    }

    @Test func softLabelsTrainOnTheStoredProbabilities() throws {
        var train = Self.stripes(100)
        // Probability vectors that point at the true class: distillation should learn it too.
        var soft = [Float](repeating: 0.02, count: 100 * 10)
        for i in 0..<100 { soft[i * 10 + train.labels[i]] = 0.82 }
        train.softLabels = soft
        let settings = CASSettings(length: .steps(30), batchSize: 32, learningRate: 3e-3, soft: true)
        let (r, _) = try CAS.run(train: train, test: Self.stripes(50, seed: 4), settings: settings)
        #expect(r.settings.soft && r.accuracy > 0.5, "\(r.accuracy)")
        // Without stored vectors --soft is refused.
        #expect(throws: SynthError.self) { try CAS.run(train: Self.stripes(50), test: Self.stripes(20), settings: settings) }
    }

    @Test func labelSpacesMustAgree() throws {
        let test = Self.stripes(20)
        // Numbered class names (a foreign WebDataset) are taken as the test set's classes.
        let numbered = Dataset(name: "foreign", pixels: [UInt8](repeating: 0, count: 3 * 784), count: 3, channels: 1, height: 28,
                               width: 28, labels: [0, 1, 2], classNames: ["0", "1", "2"])
        let aligned = try CAS.aligned(train: numbered, test: test)
        #expect(aligned.classNames == test.classNames && aligned.labels == [0, 1, 2])
        let renamed = Dataset(name: "other", pixels: [UInt8](repeating: 0, count: 2 * 784), count: 2, channels: 1, height: 28,
                              width: 28, labels: [0, 1], classNames: ["c0", "dog"])
        #expect(throws: SynthError.self) { try CAS.aligned(train: renamed, test: test) }
        let small = Dataset(name: "small", pixels: [UInt8](repeating: 0, count: 2 * 64), count: 2, channels: 1, height: 8,
                            width: 8, labels: [0, 1], classNames: ["c0", "c1"])
        #expect(throws: SynthError.self) { try CAS.aligned(train: small, test: test) }
        let empty = Dataset(name: "empty", pixels: [], count: 0, channels: 1, height: 28, width: 28, labels: [], classNames: ["c0"])
        #expect(throws: SynthError.self) { try CAS.aligned(train: empty, test: test) }
    }

    @Test func replayRunsEndToEnd() throws {
        let data = Self.stripes(300), test = Self.stripes(100, seed: 5)
        let synthetic = Self.stripes(50, classes: 5, seed: 6)
        let settings = ReplaySettings(stepsA: 8, stepsB: 8, batchSize: 32, learningRate: 3e-3)
        let r = try ReplayExperiment.run(data: data, test: test, settings: settings, synthetic: [("stripes-old", synthetic)],
                                         realBuffers: [20])
        #expect(r.rows.map(\.kind) == ["none", "real", "real", "synthetic"])
        #expect(Set(r.rows.filter { $0.kind == "real" }.map(\.buffer)) == [20, 50])
        #expect(r.rows.last?.buffer == 50)
        #expect(r.recovered["stripes-old"] != nil)
        #expect(r.rows.allSatisfy { $0.perClass.count == 10 })
        // Old classes only: a synthetic set of new classes is refused.
        let newOnly = Dataset(name: "new", pixels: [UInt8](repeating: 0, count: 784), count: 1, channels: 1, height: 28, width: 28,
                              labels: [7], classNames: data.classNames)
        #expect(throws: SynthError.self) {
            try ReplayExperiment.run(data: data, test: test, settings: settings, synthetic: [("new", newOnly)])
        }
    }

    /// A test set that numbers the same classes otherwise (a folder dataset sorted by name) is
    /// matched to the data's classes by name: the same result as the test set in the data's order.
    @Test func replayMatchesTheTestSetsClassesByName() throws {
        let data = Self.stripes(200), test = Self.stripes(60, seed: 5)
        let k = test.classCount
        let reversed = Dataset(name: "reversed", pixels: test.pixels, count: test.count, channels: 1, height: 28, width: 28,
                               labels: test.labels.map { k - 1 - $0 }, classNames: test.classNames.reversed())
        let settings = ReplaySettings(stepsA: 6, stepsB: 6, batchSize: 32, learningRate: 3e-3)
        let a = try ReplayExperiment.run(data: data, test: test, settings: settings, realBuffers: [20])
        let b = try ReplayExperiment.run(data: data, test: reversed, settings: settings, realBuffers: [20])
        #expect(a.rows.map(\.oldAccuracy) == b.rows.map(\.oldAccuracy) && a.rows.map(\.newAccuracy) == b.rows.map(\.newAccuracy))
        #expect(a.oldAccuracyAfterA == b.oldAccuracyAfterA)
        let foreign = Dataset(name: "foreign", pixels: test.pixels, count: test.count, channels: 1, height: 28, width: 28,
                              labels: test.labels, classNames: (0..<k).map { "animal \($0)" })
        #expect(throws: SynthError.self) { try ReplayExperiment.run(data: data, test: foreign, settings: settings) }
    }

    /// A live feed: its first draw is replayed as a fixed set and as the live row's first epoch;
    /// every later epoch of task B replays a fresh draw, asked for once each, in order.
    @Test func liveFeedDrawsFreshSamplesEachEpoch() throws {
        let data = Self.stripes(300), test = Self.stripes(100, seed: 5)
        for labels in SyntheticReplayLabels.allCases {
            var drawn: [Int] = []
            let feed = ReplayFeed(name: "stripes feed") { e in
                drawn.append(e)
                return Self.stripes(50, classes: 5, seed: 100 + UInt64(e))
            }
            // Task B + 50 replayed = 200 samples, 7 batches of 32 an epoch: 20 steps are 3 epochs.
            let settings = ReplaySettings(stepsA: 8, stepsB: 20, batchSize: 32, learningRate: 3e-3, syntheticLabels: labels)
            let r = try ReplayExperiment.run(data: data, test: test, settings: settings, feeds: [feed])
            #expect(drawn == [0, 1, 2], "\(labels): \(drawn)")
            #expect(r.rows.map(\.kind) == ["none", "real", "synthetic", "live"])
            #expect(r.rows.map(\.name) == ["no replay", "real buffer of 50", "stripes feed, fixed", "stripes feed, live"])
            #expect(r.rows.map(\.buffer) == [0, 50, 50, 50])
            #expect(r.recovered["stripes feed, fixed"] != nil && r.recovered["stripes feed, live"] != nil)
        }
        // Every draw must hold as many old-class samples as the first.
        let shrinking = ReplayFeed(name: "shrinking") { e in Self.stripes(50 - 5 * e, classes: 5, seed: 100 + UInt64(e)) }
        let settings = ReplaySettings(stepsA: 4, stepsB: 20, batchSize: 32, learningRate: 3e-3)
        #expect(throws: SynthError.self) { try ReplayExperiment.run(data: data, test: test, settings: settings, feeds: [shrinking]) }
    }

    /// Solver labels: the task-A model labels the replay. A synthetic buffer whose stored classes
    /// are wrong (each old stripe filed under the next old class) teaches the wrong classes with
    /// stored labels, and the right ones when the task-A model labels it.
    @Test func solverLabelsReplaceTheStoredClasses() throws {
        let data = Self.stripes(300), test = Self.stripes(100, seed: 7)
        let drawn = Self.stripes(100, classes: 5, seed: 8)
        let misfiled = Dataset(name: "misfiled", pixels: drawn.pixels, count: drawn.count, channels: 1, height: 28, width: 28,
                               labels: drawn.labels.map { ($0 + 1) % 5 }, classNames: drawn.classNames)
        var accuracy: [SyntheticReplayLabels: Double] = [:]
        for labels in SyntheticReplayLabels.allCases {
            let settings = ReplaySettings(stepsA: 30, stepsB: 30, batchSize: 16, learningRate: 3e-3, syntheticLabels: labels)
            let r = try ReplayExperiment.run(data: data, test: test, settings: settings, synthetic: [("misfiled", misfiled)])
            #expect(r.oldAccuracyAfterA > 0.9, "task A should learn the stripes: \(r.oldAccuracyAfterA)")
            accuracy[labels] = r.rows.last!.oldAccuracy
            let back = try JSONDecoder().decode(ReplayResult.self, from: JSONEncoder().encode(r))
            #expect(back.settings.syntheticLabels == labels)
        }
        #expect(accuracy[.stored]! < 0.5 && accuracy[.solver]! > 0.8, "\(accuracy)")
        // Results written before the option existed read as stored labels.
        let old = #"{"old_classes":[0],"new_classes":[1],"arch":"ref-cnn","steps_a":1,"steps_b":1,"batch":1,"lr":0.001,"cosine":true,"seed":0}"#
        #expect(try JSONDecoder().decode(ReplaySettings.self, from: Data(old.utf8)).syntheticLabels == .stored)
    }

    /// replay-eval --json writes its seed as every synth seed, a decimal string (the largest seed
    /// too); results written with an integer seed still read.
    @Test func replaySettingsWriteTheSeedAsAString() throws {
        let settings = ReplaySettings(seed: UInt64.max)
        let text = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        #expect(text.contains(#""seed":"18446744073709551615""#), "\(text)")
        #expect(try JSONDecoder().decode(ReplaySettings.self, from: Data(text.utf8)) == settings)
        let old = #"{"old_classes":[0],"new_classes":[1],"arch":"ref-cnn","steps_a":1,"steps_b":1,"batch":1,"lr":0.001,"cosine":true,"seed":7}"#
        #expect(try JSONDecoder().decode(ReplaySettings.self, from: Data(old.utf8)).seed == 7)
    }

    /// CAS settings land in manifest.json ("evaluations"): the seed is a decimal string there, as
    /// every 64-bit seed a reader loads; curves and manifests written before hold an integer.
    @Test func casSettingsWriteTheSeedAsAString() throws {
        let settings = CASSettings(length: .steps(3), seed: 18_446_744_073_709_551_615)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let text = String(decoding: try e.encode(settings), as: UTF8.self)
        #expect(text.contains(#""seed":"18446744073709551615""#), "\(text)")
        #expect(try JSONDecoder().decode(CASSettings.self, from: Data(text.utf8)) == settings)
        let old = text.replacingOccurrences(of: #""seed":"18446744073709551615""#, with: #""seed":18446744073709551615"#)
        #expect(try JSONDecoder().decode(CASSettings.self, from: Data(old.utf8)) == settings)
        let none = text.replacingOccurrences(of: #","seed":"18446744073709551615""#, with: "")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(CASSettings.self, from: Data(none.utf8)) }
    }
}
