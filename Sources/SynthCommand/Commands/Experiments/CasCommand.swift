import ArgumentParser
import Datasets
import Engine
import Foundation
import Models
import Report
import Shards
import Trainer

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
        """
    )

    @Option(help: "Training data spec (shards:DIR for a synthetic set; a bare directory is read as shards).") var train: String
    @Option(help: "Test data spec (real data).") var test = "fashion-mnist:test"
    @Flag(help: "Train on the stored probability vectors (distillation) instead of the hard labels.") var soft = false
    @Option(help: "Also save the trained classifier here (.safetensors).") var saveModel: String?
    @Flag(help: "Do not store the result in the dataset's manifest or rewrite its report.") var noRecord = false
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Report progress in pipes too (one line per epoch).") var verbose = false
    @OptionGroup var training: CASOptions

    func run() throws {
        if let saveModel { try OutputPath.checkWritable(saveModel) }
        let trainSpec = try SynthDatasetDir.spec(train)
        let trainData = try Dataset.load(trainSpec)
        let testData = try Dataset.load(spec: test)
        let settings = training.settings(soft: soft)
        let line = ProgressLine(verbose: verbose)
        let (result, model) = try CAS.run(train: trainData, test: testData, settings: settings) { p in
            line.emit(trainingLine("CAS \(trainData.name)", p), final: p.endOfEpoch)
        }
        if let saveModel {
            try ModelFile.save(model, to: saveModel, info: ["train_data": trainData.name, "cas_test": testData.name,
                                                                    "cas_accuracy": String(format: "%.4f", result.accuracy),
                                                                    "tool": "synth \(SynthVersion.string)"])
        }
        if !noRecord, let dir = SynthDatasetDir.of(trainSpec) {
            try ManifestUpdate.modify(dir: dir) { m in
                var ev = try DatasetEvaluations.of(m)
                ev.record(result)
                ev.save(into: &m)
            }
            try DatasetReport.refresh(dir: dir, data: trainSpec.limit == nil ? trainData : nil)
        }
        if json {
            print(JSONOutput.string(result))
        } else {
            print(String(format: "CAS accuracy %.4f  error %.4f  (%@: %d samples, %d steps of %d, %@%@; test %@: %d samples)",
                         result.accuracy, result.error, trainData.name, result.trainSamples, result.steps, settings.batchSize,
                         settings.arch, soft ? ", soft labels" : "", testData.name, result.testSamples))
            for c in result.perClass {
                print(String(format: "  %2d %@ %.4f  (%d)", c.classIndex, c.name.padding(toLength: 14, withPad: " ", startingAt: 0), c.accuracy, c.samples))
            }
        }
    }
}
