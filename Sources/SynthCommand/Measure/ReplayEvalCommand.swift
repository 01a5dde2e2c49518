import ArgumentParser
import Datasets
import Engine
import Foundation
import Measure
import Pipeline
import Support

extension SyntheticReplayLabels: ExpressibleByArgument {}

struct ReplayEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-eval",
        abstract: "Class-incremental learning: how much old-class accuracy replay from a synthetic dataset keeps.",
        discussion: """
        ref-cnn (one head over all classes) learns task A (the --old classes of --data) for --steps-a, then task B (the --new classes) for --steps-b with a fresh Adam, three ways: with no replay, with a synthetic dataset of the old classes mixed into B (--synthetic DIR, e.g. a build with --classes 0,1,2,3,4), and with a real buffer of the same size drawn from task A. Reported: accuracy on the old classes' test images after B, and the recovered fraction (synthetic - none) / (real - none). --synthetic-labels solver trains on the task-A model's probabilities for each replayed synthetic sample instead of its stored class (as deep generative replay labels its replay); the real buffer always keeps its true labels.

        --feed SOURCE (gan, cag, gan-latent, replay:SPEC) replays a live feed instead of a stored set: in-process, the source draws --feed-per-class samples of each old class, through the filter a synth build of that source would use by default (its default models, threshold and sampling settings), as `synth build --source SOURCE --classes OLD --per-class N --seed S --out -` would stream them; epoch e (1, 2, ...) of task B replays the draw of seed --feed-seed + e - 1, fresh samples each epoch as deep generative replay draws them. Beside it, the first draw alone is replayed as a fixed dataset of the same size ("SOURCE feed, fixed"), and a real buffer of that size, so the table holds fixed against live and each one's recovered fraction.

        Examples:
          synth replay-eval --synthetic data/gan-old
          synth replay-eval --synthetic data/gan-old --synthetic-labels solver
          synth replay-eval --synthetic data/gan-old --synthetic data/cag-old \\
              --json --out runs/replay.json
          synth replay-eval --feed gan --feed-per-class 1000
          synth replay-eval --buffer 5000    (no synthetic set: none vs a real buffer)
        """
    )

    @Option(parsing: .singleValue, help: "A synthetic dataset of the old classes (repeatable).") var synthetic: [String] = []
    @Option(parsing: .singleValue, help: "Also a real buffer of this many task-A samples (repeatable).") var buffer: [Int] = []
    @Option(help: "Replay a live feed from this build source (gan, cag, gan-latent, replay:SPEC), fresh samples each epoch of task B, beside its first draw as a fixed dataset.") var feed: String?
    @Option(parsing: .unconditional, help: "Samples per old class in each draw of --feed.") var feedPerClass = 1000
    @Option(parsing: .unconditional, help: "Seed of --feed's first draw; epoch e draws with seed + e - 1.") var feedSeed: UInt64 = 0
    @Option(help: "Training data of both tasks.") var data = "fashion-mnist:train"
    @Option(help: "Test data.") var test = "fashion-mnist:test"
    @Option(help: "Task A's classes.") var old = "0,1,2,3,4"
    @Option(help: "Task B's classes.") var new = "5,6,7,8,9"
    @Option(help: "Optimisation steps on task A.") var stepsA = 1000
    @Option(help: "Optimisation steps on task B.") var stepsB = 1000
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Learning-rate schedule of each task: cosine or constant.") var schedule: LearningRateSchedule = .cosine
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Labels of replayed synthetic samples: stored (their class) or solver (the task-A model's probabilities).")
    var syntheticLabels: SyntheticReplayLabels = .stored
    @Option(help: "Write the result as JSON here.") var out: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Report progress in pipes too.") var verbose = false

    func validate() throws {
        if stepsA < 1 || stepsB < 1 { throw ValidationError("--steps-a and --steps-b must be at least 1") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if !(lr > 0) { throw ValidationError("--lr must be positive") }
        if synthetic.isEmpty && buffer.isEmpty && feed == nil { throw ValidationError("give --synthetic DIR, --feed SOURCE or --buffer N") }
    }

    func run() throws {
        if let out { try OutputPath.checkWritable(out) }
        func classes(_ text: String, _ flag: String) throws -> [Int] {
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = items.compactMap { Int($0) }
            guard !items.isEmpty, values.count == items.count, values.allSatisfy({ $0 >= 0 }) else {
                throw ValidationError("\(flag) '\(text)': expected class indices separated by commas")
            }
            return values
        }
        let settings = ReplaySettings(oldClasses: try classes(old, "--old"), newClasses: try classes(new, "--new"),
                                      stepsA: stepsA, stepsB: stepsB, batchSize: batch, learningRate: lr,
                                      cosine: schedule == .cosine, seed: seed, syntheticLabels: syntheticLabels)
        var sets: [(name: String, data: Dataset)] = []
        for dir in synthetic {
            guard Files.isDirectory(dir) else { throw SynthError.file(dir, "no such directory") }
            sets.append((dir, try Dataset.load(.shards(dir: dir))))
        }
        var feeds: [ReplayFeed] = []
        if let feed {
            guard feedPerClass >= 1 else { throw SynthError("--feed-per-class \(feedPerClass): must be positive") }
            let oldList = settings.oldClasses.map(String.init).joined(separator: ",") + ","
            func draw(_ n: Int) throws -> Dataset {
                var o = BuildOptions(source: feed, perClass: feedPerClass, out: "-")
                o.classes = oldList
                o.seed = feedSeed &+ UInt64(n)
                let stream = try BuildStream(options: o, toolVersion: "synth \(SynthVersion.string)")
                return try stream.dataset(name: "\(feed) feed, seed \(o.seed)")
            }
            // Checked before any training: the source, its models and the classes must load.
            let first = try draw(0)
            feeds.append(ReplayFeed(name: "\(feed) feed") { n in n == 0 ? first : try draw(n) })
        }
        let trainData = try Dataset.load(spec: data), testData = try Dataset.load(spec: test)
        let line = ProgressLine(verbose: verbose)
        let result = try ReplayExperiment.run(data: trainData, test: testData, settings: settings, synthetic: sets,
                                              feeds: feeds, realBuffers: buffer) { stage, p in
            line.emit(trainingLine("\(stage)", p), final: p.step == p.totalSteps)
        }
        if let out { try Files.writeAtomically(Array(JSONOutput.string(result).utf8) + [10], to: out) }
        if json {
            print(JSONOutput.string(result))
            return
        }
        print(String(format: "old classes %@ -> new %@; %@, %d + %@ of %d; synthetic replay labels: %@; old-class accuracy after task A: %.2f%%",
                     old, new, settings.arch, stepsA, counted(stepsB, "step"), batch, syntheticLabels.rawValue, 100 * result.oldAccuracyAfterA))
        print("| replay during task B | buffer | old-class accuracy | new-class accuracy |")
        print("| --- | ---: | ---: | ---: |")
        for r in result.rows {
            print(String(format: "| %@ | %d | %.2f%% | %.2f%% |", r.name, r.buffer, 100 * r.oldAccuracy, 100 * r.newAccuracy))
        }
        for (name, f) in result.recovered.sorted(by: { $0.key < $1.key }) {
            print(String(format: "recovered by %@: %.3f of what an equal real buffer recovers", name, f))
        }
    }
}
