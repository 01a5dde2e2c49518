import ArgumentParser
import Datasets
import Engine
import Foundation
import Measure
import Models
import Report
import Shards
import Support

struct CasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cas",
        abstract: "Classification Accuracy Score: train a fresh classifier only on --train, report its accuracy on --test.",
        discussion: """
        The default is the design's yardstick: ref-cnn, 4,690 steps of batch 128, Adam 1e-3, cosine schedule, seed 0, the settings synth compress trains real subsets with. A shards directory is checked against its manifest (sizes and SHA-256 of every shard) before training; one that does not match is refused. A training set's classes are matched to the test set's by name (see synth help, folder:DIR). When --train is a dataset synth wrote, the result is stored in its manifest ("evaluations") and report.md/report.html are rewritten beside it.

        Examples:
          synth cas --train shards:data/gan --test fashion-mnist:test
          synth cas --train shards:data/gan --test fashion-mnist:test --soft --json
          synth cas --train fashion-mnist:train@1000 --test fashion-mnist:test \\
                      --epochs 10
          synth cas --train shards:data/gan --seeds 3 --soft --temperature 0.5

        --seeds K trains K classifiers (seeds --seed, --seed + 1, ...) and reports each and their mean and spread (sample standard deviation); a headline figure is the mean of 3. --temperature T (with --soft) trains on the stored probabilities raised to 1/T and renormalised: below 1 sharpens them towards their most probable class, above 1 flattens them.
        """
    )

    @Option(help: "Training data spec (shards:DIR for a synthetic set; a bare directory is read as shards).") var train: String
    @Option(help: "Test data spec (real data).") var test = "fashion-mnist:test"
    @OptionGroup var labels: SoftLabelOptions
    @Option(parsing: .unconditional, help: "Train this many classifiers (seeds --seed, --seed + 1, ...): mean and spread.") var seeds = 1
    @Option(help: "Also save the trained classifier here (.safetensors).") var saveModel: String?
    @Flag(help: "Do not store the result in the dataset's manifest or rewrite its report.") var noRecord = false
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Report progress in pipes too (one line per epoch).") var verbose = false
    @OptionGroup var training: CASOptions

    func validate() throws {
        guard (1...100).contains(seeds) else { throw ValidationError("--seeds \(seeds): must be 1 to 100") }
        if seeds > 1 && saveModel != nil { throw ValidationError("--save-model saves one classifier: use it with --seeds 1") }
    }

    func run() throws {
        if let saveModel { try OutputPath.checkWritable(saveModel) }
        let trainSpec = try SynthDatasetDir.spec(train)
        let trainData = try Dataset.load(trainSpec)
        let testData = try Dataset.load(spec: test)
        let settings = labels.applied(to: training.settings())
        let line = ProgressLine(verbose: verbose)
        var runs: [CASResult] = []
        var model: Classifier?
        for k in 0..<seeds {
            var s = settings
            s.seed = settings.seed &+ UInt64(k)
            let label = seeds > 1 ? "CAS \(trainData.name) seed \(s.seed)" : "CAS \(trainData.name)"
            let (r, m) = try CAS.run(train: trainData, test: testData, settings: s) { p in
                line.emit(trainingLine(label, p), final: p.endOfEpoch)
            }
            runs.append(r)
            model = m
        }
        let result = runs[0]
        if let held = result.trainedClasses, let heldSamples = result.trainedClassesTestSamples {
            // Said on stderr so that --json output stays one document.
            // Ten names at most: a 100-class note stays a line a reader takes in.
            let names = held.prefix(10).map { $0 < testData.classNames.count ? testData.classNames[$0] : String($0) }.joined(separator: ", ")
                + (held.count > 10 ? ", and \(held.count - 10) more" : "")
            let present = Set(testData.labels).count
            let over = result.trainedClassesAccuracy.map { String(format: "%.4f", $0) } ?? "n/a"
            FileHandle.standardError.write(Data(("synth: note: \(trainData.name) holds \(held.count) of the \(counted(present, "class")) of \(testData.name) (\(names)): "
                + String(format: "accuracy %.4f is over all %@ (the %@ of untrained classes count as errors); over the %@ of the trained classes it is %@\n",
                         result.accuracy, counted(result.testSamples, "test sample"), counted(result.testSamples - heldSamples, "sample"),
                         counted(heldSamples, "test sample"), over)).utf8))
        }
        if let saveModel {
            try ModelFile.save(model!, to: saveModel, info: ["train_data": trainData.name, "cas_test": testData.name,
                                                                    "cas_accuracy": String(format: "%.4f", result.accuracy),
                                                                    "tool": "synth \(SynthVersion.string)"])
        }
        if !noRecord, let dir = SynthDatasetDir.of(trainSpec) {
            try ManifestUpdate.modify(dir: dir) { m in
                var ev = try DatasetEvaluations.of(m)
                for r in runs { ev.record(r) }
                ev.save(into: &m)
            }
            try DatasetReport.refresh(dir: dir, data: trainSpec.isSubset ? nil : trainData)
        }
        if seeds > 1 {
            printSpread(runs, settings: settings, train: trainData, test: testData)
        } else if json {
            print(JSONOutput.string(result))
        } else {
            print(String(format: "CAS accuracy %.4f  error %.4f  (%@: %@, %@ of %d, %@%@; test %@: %@)",
                         result.accuracy, result.error, trainData.name, counted(result.trainSamples, "sample"),
                         counted(result.steps, "step"), settings.batchSize, settings.arch, labelsText(settings),
                         testData.name, counted(result.testSamples, "sample")))
            if let held = result.trainedClassesAccuracy, let n = result.trainedClassesTestSamples {
                print(String(format: "trained classes only: accuracy %.4f  error %.4f  (%@)", held, 1 - held, counted(n, "test sample")))
            }
            for c in result.perClass {
                print(String(format: "  %2d %@ %.4f  (%d)", c.classIndex, c.name.padding(toLength: 14, withPad: " ", startingAt: 0), c.accuracy, c.samples))
            }
        }
    }

    func labelsText(_ s: CASSettings) -> String {
        !s.soft ? "" : s.temperature == 1 ? ", soft labels" : ", soft labels at temperature \(s.temperature)"
    }

    /// Several seeds: one line each and their mean and spread, or one JSON document with the runs.
    func printSpread(_ runs: [CASResult], settings: CASSettings, train: Dataset, test: Dataset) {
        let spread = SeedSpread(runs)
        if json {
            struct Output: Encodable {
                let seeds: [String], accuracies: [Double], runs: [CASResult]
                let mean: Double, std: Double, min: Double, max: Double
                enum CodingKeys: String, CodingKey {
                    case seeds, accuracies, runs, mean = "accuracy_mean", std = "accuracy_std", min = "accuracy_min", max = "accuracy_max"
                }
            }
            print(JSONOutput.string(Output(seeds: spread.seeds.map(String.init), accuracies: spread.accuracies, runs: runs,
                                          mean: spread.mean, std: spread.std, min: spread.min, max: spread.max)))
            return
        }
        for r in runs {
            print(String(format: "seed %@  CAS accuracy %.4f  error %.4f", String(r.settings.seed), r.accuracy, r.error))
        }
        print(String(format: "CAS accuracy %.4f +- %.4f over %d seeds (min %.4f, max %.4f; %@: %@, %@ of %d, %@%@; test %@: %@)",
                     spread.mean, spread.std, runs.count, spread.min, spread.max, train.name, counted(runs[0].trainSamples, "sample"),
                     counted(runs[0].steps, "step"), settings.batchSize, settings.arch,
                     labelsText(settings),
                     test.name, counted(runs[0].testSamples, "sample")))
    }
}
