import Datasets
import Foundation
import Models
import Support
import Training

/// Class-incremental learning with replay: a classifier learns task A (the old classes), then
/// task B (the new classes) with no access to A's data, and forgets A unless something of A is
/// mixed into B's training: nothing, a real buffer kept from A, or a synthetic dataset of A's
/// classes (what a generator can give instead of stored data).
public struct ReplaySettings: Codable, Equatable, Sendable {
    public var oldClasses: [Int]
    public var newClasses: [Int]
    public var arch: String
    public var stepsA: Int
    public var stepsB: Int
    public var batchSize: Int
    public var learningRate: Float
    public var cosine: Bool
    public var seed: UInt64
    /// How replayed synthetic samples are labelled during task B.
    public var syntheticLabels: SyntheticReplayLabels

    enum CodingKeys: String, CodingKey {
        case oldClasses = "old_classes", newClasses = "new_classes", arch, stepsA = "steps_a", stepsB = "steps_b"
        case batchSize = "batch", learningRate = "lr", cosine, seed, syntheticLabels = "synthetic_labels"
    }

    public init(oldClasses: [Int] = [0, 1, 2, 3, 4], newClasses: [Int] = [5, 6, 7, 8, 9], arch: String = "ref-cnn",
                stepsA: Int = 1000, stepsB: Int = 1000, batchSize: Int = 128, learningRate: Float = 1e-3,
                cosine: Bool = true, seed: UInt64 = 0, syntheticLabels: SyntheticReplayLabels = .stored) {
        self.oldClasses = oldClasses; self.newClasses = newClasses; self.arch = arch; self.stepsA = stepsA
        self.stepsB = stepsB; self.batchSize = batchSize; self.learningRate = learningRate; self.cosine = cosine; self.seed = seed
        self.syntheticLabels = syntheticLabels
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        oldClasses = try c.decode([Int].self, forKey: .oldClasses); newClasses = try c.decode([Int].self, forKey: .newClasses)
        arch = try c.decode(String.self, forKey: .arch)
        stepsA = try c.decode(Int.self, forKey: .stepsA); stepsB = try c.decode(Int.self, forKey: .stepsB)
        batchSize = try c.decode(Int.self, forKey: .batchSize); learningRate = try c.decode(Float.self, forKey: .learningRate)
        cosine = try c.decode(Bool.self, forKey: .cosine)
        // A decimal string as every seed synth writes (SeedJSON); results written before read as integers.
        guard let seed = try c.decodeSeed(forKey: .seed) else {
            throw DecodingError.keyNotFound(CodingKeys.seed, .init(codingPath: c.codingPath, debugDescription: "no seed"))
        }
        self.seed = seed
        // Results written before the option existed replayed the stored labels.
        syntheticLabels = try c.decodeIfPresent(SyntheticReplayLabels.self, forKey: .syntheticLabels) ?? .stored
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(oldClasses, forKey: .oldClasses); try c.encode(newClasses, forKey: .newClasses); try c.encode(arch, forKey: .arch)
        try c.encode(stepsA, forKey: .stepsA); try c.encode(stepsB, forKey: .stepsB); try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate); try c.encode(cosine, forKey: .cosine)
        try c.encodeSeed(seed, forKey: .seed); try c.encode(syntheticLabels, forKey: .syntheticLabels)
    }

    func config(steps: Int) -> TrainingConfig {
        TrainingConfig(length: .steps(steps), batchSize: batchSize, learningRate: learningRate, optimizer: .adam, cosine: cosine, seed: seed)
    }
}

/// The labels a replayed synthetic sample is trained on in task B.
public enum SyntheticReplayLabels: String, Codable, Sendable, CaseIterable {
    /// The class the source generated it for (its .cls).
    case stored
    /// The task-A model's probability vector for it (the old "solver" labels its own replay, as in
    /// deep generative replay, Shin et al. 2017): a sample the generator drew badly still teaches
    /// what the old model would have said about it, instead of a label it does not look like.
    case solver
}

/// A live feed of synthetic samples of the old classes (`replay-eval --feed`): `draw(e)` is epoch
/// e's (0, 1, ...) samples, each draw fresh (a new seed), all of the same size; the experiment
/// replays draw(0) as a fixed dataset beside the feed, which replays draw(e - 1) in epoch e of
/// task B, as deep generative replay draws new samples as it trains.
public struct ReplayFeed {
    public var name: String
    public var draw: (Int) throws -> Dataset
    public init(name: String, draw: @escaping (Int) throws -> Dataset) { self.name = name; self.draw = draw }
}

public struct ReplayRow: Codable, Equatable, Sendable {
    /// "none", "real", "synthetic" (a fixed dataset) or "live" (a feed's fresh samples each epoch).
    public var kind: String
    public var name: String
    /// Replayed samples mixed into task B.
    public var buffer: Int
    /// Test accuracy (over all classes, argmax of the full head) on the old classes' test images.
    public var oldAccuracy: Double
    public var newAccuracy: Double
    public var perClass: [ClassAccuracy]

    enum CodingKeys: String, CodingKey {
        case kind, name, buffer, oldAccuracy = "old_accuracy", newAccuracy = "new_accuracy", perClass = "per_class"
    }
}

public struct ReplayResult: Codable, Equatable, Sendable {
    public var data: String
    public var test: String
    public var settings: ReplaySettings
    /// Old-class test accuracy right after task A (what replay tries to keep).
    public var oldAccuracyAfterA: Double
    public var rows: [ReplayRow]

    enum CodingKeys: String, CodingKey { case data, test, settings, oldAccuracyAfterA = "old_accuracy_after_a", rows, recovered }

    public init(data: String, test: String, settings: ReplaySettings, oldAccuracyAfterA: Double, rows: [ReplayRow]) {
        self.data = data; self.test = test; self.settings = settings; self.oldAccuracyAfterA = oldAccuracyAfterA; self.rows = rows
    }

    /// For each synthetic or live row: (synthetic - none) / (real of the same size - none), the
    /// share of what an equal real buffer recovers that the synthetic one recovers.
    public var recovered: [String: Double] {
        guard let none = rows.first(where: { $0.kind == "none" }) else { return [:] }
        var out: [String: Double] = [:]
        for s in rows where s.kind == "synthetic" || s.kind == "live" {
            guard let r = rows.first(where: { $0.kind == "real" && $0.buffer == s.buffer }) else { continue }
            out[s.name] = (s.oldAccuracy - none.oldAccuracy) / (r.oldAccuracy - none.oldAccuracy)
        }
        return out
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decode(String.self, forKey: .data); test = try c.decode(String.self, forKey: .test)
        settings = try c.decode(ReplaySettings.self, forKey: .settings)
        oldAccuracyAfterA = try c.decode(Double.self, forKey: .oldAccuracyAfterA)
        rows = try c.decode([ReplayRow].self, forKey: .rows)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data); try c.encode(test, forKey: .test); try c.encode(settings, forKey: .settings)
        try c.encode(oldAccuracyAfterA, forKey: .oldAccuracyAfterA); try c.encode(rows, forKey: .rows)
        try c.encode(recovered, forKey: .recovered)
    }
}

public enum ReplayExperiment {
    public enum Stage: Sendable, CustomStringConvertible {
        case taskA, taskB(String)
        public var description: String {
            switch self {
            case .taskA: return "task A"
            case .taskB(let name): return "task B + \(name)"
            }
        }
    }

    /// Runs the experiment: task A once, then task B with no replay, with a real buffer of each
    /// size in `realBuffers` and of each synthetic buffer's size, and with each synthetic buffer
    /// (only its samples of old classes are replayed); for each feed, its first draw as a fixed
    /// synthetic dataset and the feed itself, a fresh draw each epoch of task B.
    public static func run(data: Dataset, test: Dataset, settings: ReplaySettings, synthetic: [(name: String, data: Dataset)] = [],
                           feeds: [ReplayFeed] = [], realBuffers: [Int] = [],
                           progress: (Stage, TrainingProgress) -> Void = { _, _ in }) throws -> ReplayResult {
        // Class numbers mean the data's classes: the test set's are matched to them by name.
        let test = try test.inLabelSpace(of: data.classNames, named: data.name)
        let old = Set(settings.oldClasses), new = Set(settings.newClasses)
        guard !old.isEmpty, !new.isEmpty, old.isDisjoint(with: new) else {
            throw SynthError("replay: the old and new classes must be non-empty and disjoint")
        }
        guard let top = old.union(new).max(), top < data.classCount, top < test.classCount else {
            throw SynthError("replay: class \(old.union(new).max() ?? 0) is outside \(data.name)'s \(data.classCount) classes")
        }
        let taskA = data.subset(indices: (0..<data.count).filter { old.contains(data.labels[$0]) })
        let taskB = data.subset(indices: (0..<data.count).filter { new.contains(data.labels[$0]) })
        guard taskA.count > 0, taskB.count > 0 else { throw SynthError("replay: \(data.name) has no samples of the old or of the new classes") }

        // Synthetic buffers: their old-class samples, relabelled into the data's label space.
        func oldSamples(_ set: Dataset) throws -> Dataset {
            let aligned = try CAS.aligned(train: set, test: data)
            let keep = (0..<aligned.count).filter { old.contains(aligned.labels[$0]) }
            guard !keep.isEmpty else { throw SynthError("\(set.name): no samples of the old classes \(settings.oldClasses)") }
            return aligned.subset(indices: keep)
        }
        var buffers: [(kind: String, name: String, data: Dataset)] = []
        for s in synthetic { buffers.append(("synthetic", s.name, try oldSamples(s.data))) }
        // A feed's first draw is both its fixed row and the live row's first epoch.
        var live: [String: (Int) throws -> Dataset] = [:]
        for f in feeds {
            let first = try oldSamples(try f.draw(0))
            buffers.append(("synthetic", "\(f.name), fixed", first))
            buffers.append(("live", "\(f.name), live", first))
            live["\(f.name), live"] = { epoch in
                let next = try oldSamples(try f.draw(epoch - 1))
                guard next.count == first.count else {
                    throw SynthError("\(f.name): the feed's draw \(epoch - 1) kept \(next.count) old-class samples, its first \(first.count)")
                }
                return next
            }
        }
        var sizes = realBuffers
        for b in buffers where !sizes.contains(b.data.count) { sizes.append(b.data.count) }
        for n in sizes.sorted() {
            guard n >= 1, n <= taskA.count else { throw SynthError("replay: a real buffer of \(n) needs 1...\(taskA.count) task-A samples") }
            buffers.insert(("real", "real buffer of \(n)", realBuffer(taskA, size: n, classes: settings.oldClasses, seed: settings.seed)), at: 0)
        }

        // Task A, once; every variant of task B starts from this state.
        let stats = taskA.channelStatistics()
        let card = ModelCard(kind: "classifier", arch: settings.arch, classNames: data.classNames, channels: data.channels,
                             height: data.height, width: data.width, mean: stats.mean, std: stats.std)
        let model = try Architectures.classifier(card, seed: settings.seed)
        try ClassifierTrainer(config: settings.config(steps: settings.stepsA)).train(model, on: taskA) { progress(.taskA, $0) }
        let afterA = model.stateDict().map { Array($0.tensor.values) }
        let testOld = test.subset(indices: (0..<test.count).filter { old.contains(test.labels[$0]) })
        let testNew = test.subset(indices: (0..<test.count).filter { new.contains(test.labels[$0]) })
        let oldAfterA = try Evaluation.run(model, on: testOld).accuracy

        var rows: [ReplayRow] = []
        for (kind, name, buffer) in [("none", "no replay", nil as Dataset?)] + buffers.map({ ($0.kind, $0.name, $0.data as Dataset?) }) {
            for (entry, values) in zip(model.stateDict(), afterA) {
                values.withUnsafeBufferPointer { entry.tensor.ptr.update(from: $0.baseAddress!, count: values.count) }
            }
            let solverLabelled = (kind == "synthetic" || kind == "live") && settings.syntheticLabels == .solver
            // The task-B data with `buffer` replayed; solver labels come from the task-A model,
            // labelled before task B moves it (a live feed's later epochs by a frozen copy).
            func mixed(_ buffer: Dataset?, solver: Classifier) throws -> Dataset {
                var mixed = buffer.map { concatenate(taskB, $0) } ?? taskB
                if solverLabelled, let buffer {
                    mixed.softLabels = oneHot(taskB.labels, classes: data.classCount) + (try Evaluation.probabilities(solver, on: buffer))
                }
                return mixed
            }
            var epochs: ((Int) throws -> Dataset)?
            if kind == "live", let draw = live[name] {
                let solver = try Architectures.classifier(card, seed: settings.seed)
                for (entry, values) in zip(solver.stateDict(), afterA) {
                    values.withUnsafeBufferPointer { entry.tensor.ptr.update(from: $0.baseAddress!, count: values.count) }
                }
                solver.eval()
                epochs = { epoch in try mixed(try draw(epoch), solver: solver) }
            }
            try ClassifierTrainer(config: settings.config(steps: settings.stepsB), soft: solverLabelled)
                .train(model, on: try mixed(buffer, solver: model), epochs: epochs) { progress(.taskB(name), $0) }
            let evOld = try Evaluation.run(model, on: testOld), evNew = try Evaluation.run(model, on: testNew)
            let ev = try Evaluation.run(model, on: test)
            let counts = ev.confusion.map { $0.reduce(0, +) }
            let perClass = ev.perClassAccuracy.enumerated().compactMap { i, a in
                counts[i] > 0 ? ClassAccuracy(classIndex: i, name: test.classNames[i], samples: counts[i], accuracy: a) : nil
            }
            rows.append(ReplayRow(kind: kind, name: name, buffer: buffer?.count ?? 0, oldAccuracy: evOld.accuracy,
                                  newAccuracy: evNew.accuracy, perClass: perClass))
        }
        return ReplayResult(data: data.name, test: test.name, settings: settings, oldAccuracyAfterA: oldAfterA, rows: rows)
    }

    /// `size` task-A samples drawn at random by seed, as even over the classes as they allow.
    static func realBuffer(_ taskA: Dataset, size: Int, classes: [Int], seed: UInt64) -> Dataset {
        var rng = RNG(seed: RNG.derive(seed, 0x5245504C4159, UInt64(size)))
        var pools = classes.map { c in (0..<taskA.count).filter { taskA.labels[$0] == c } }
        for i in pools.indices {
            let p = rng.permutation(pools[i].count)
            pools[i] = p.map { pools[i][$0] }
        }
        var picked: [Int] = [], round = 0
        while picked.count < size {
            var any = false
            for pool in pools where round < pool.count && picked.count < size { picked.append(pool[round]); any = true }
            if !any { break }
            round += 1
        }
        return taskA.subset(indices: picked.sorted())
    }

    static func oneHot(_ labels: [Int], classes: Int) -> [Float] {
        var out = [Float](repeating: 0, count: labels.count * classes)
        for (i, l) in labels.enumerated() { out[i * classes + l] = 1 }
        return out
    }

    static func concatenate(_ a: Dataset, _ b: Dataset) -> Dataset {
        Dataset(name: "\(a.name)+\(b.name)", pixels: a.pixels + b.pixels, count: a.count + b.count, channels: a.channels,
                height: a.height, width: a.width, labels: a.labels + b.labels, classNames: a.classNames)
    }
}
