import ArgumentParser
import Datasets
import Foundation
import Measure
import Report
import Shards
import Support

struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Place synthetic datasets on the real error-versus-size curve and weigh their models against that much real data.",
        discussion: """
        How much real data a synthetic dataset stands in for, against the bytes of the models that made it. ref-cnn is trained on class-balanced real subsets of each of --sizes, once for the same number of steps a synthetic set gets (--steps, default 4690) and once for the same number of epochs (the count that gives the largest subset those steps: 10 for 60,000 at batch 128), and scored on --test. Each --synthetic dataset is trained the same way (its CAS) and placed on the same-steps curve: the real size with the same error, by piecewise-linear interpolation in log(size) on the non-increasing fit, or "below/above" the measured range. Compression = that much real data (raw 8-bit pixels; PNG as shards store them) / the bytes of every model file in the dataset's build record.

        The real curve takes 2 x sizes trainings: --curve FILE keeps it (written after every point; reused when real, test and settings match), so new datasets cost one CAS each. A dataset's CAS is stored in its manifest ("evaluations") and reused unless --retrain; its placement is stored there too (one for hard labels, one for --soft), and report.md/report.html are rewritten beside it.

        --soft [--temperature T] trains the synthetic sets on their stored probability vectors, as synth cas --soft does, and places that CAS on the same real curve (the real subsets keep their hard labels): the soft column of the compression table.

        Examples:
          synth compress --real fashion-mnist:train --test fashion-mnist:test \\
              --curve runs/real-curve.json
          synth compress --synthetic data/gan --synthetic data/cag \\
              --curve runs/real-curve.json --out runs/compression.json
          synth compress --synthetic data/gan --soft --temperature 4 \\
              --curve runs/real-curve.json
        """
    )

    @Option(parsing: .singleValue, help: "A synthetic dataset directory (repeatable).") var synthetic: [String] = []
    @Option(help: "Real training data the subsets are drawn from.") var real = "fashion-mnist:train"
    @Option(help: "Real test data every classifier is scored on.") var test = "fashion-mnist:test"
    @Option(help: "Real subset sizes, comma-separated.") var sizes = "1000,2000,5000,10000,20000,60000"
    @Option(help: "Epochs of the same-epochs curve (default: what gives the largest subset --steps).") var curveEpochs: Int?
    @Option(help: "JSON file holding the real curves: reused when it matches, updated after every new point.") var curve: String?
    @Option(help: "Write the whole result (curves and placements) as JSON here.") var out: String?
    @Flag(help: "Train the synthetic datasets again even when their manifest holds a matching CAS.") var retrain = false
    @Flag(help: "Do not write the placement into the datasets' manifests and reports.") var noRecord = false
    @Flag(help: "Print the result as JSON instead of tables.") var json = false
    @Flag(help: "Report progress in pipes too (one line per finished training).") var verbose = false
    @OptionGroup var labels: SoftLabelOptions
    @OptionGroup var training: CASOptions

    func run() throws {
        let sizeList = try parseSizes(sizes)
        if let curveEpochs, curveEpochs < 1 { throw ValidationError("--curve-epochs must be at least 1") }
        if let out { try OutputPath.checkWritable(out) }
        if let curve { try OutputPath.checkWritable(curve) }
        // Every synthetic set is read (and its shards checked against its manifest) before any training.
        var sets: [(dir: String, data: Dataset)] = []
        for dir in synthetic {
            guard Files.isDirectory(dir) else { throw SynthError.file(dir, "no such directory") }
            sets.append((dir, try Dataset.load(.shards(dir: dir))))
        }
        let realData = try Dataset.load(spec: real), testData = try Dataset.load(spec: test)
        for s in sets {
            _ = try CAS.aligned(train: s.data, test: testData)
            if labels.soft { try CAS.checkSoftLabels(s.data) }
        }
        // The real subsets train on their labels; the synthetic sets with --soft on their stored probabilities.
        let settings = training.settings(), syntheticSettings = labels.applied(to: settings)
        let line = ProgressLine(verbose: verbose)

        let cached = try curve.flatMap { Files.exists($0) ? try RealCurves.read($0) : nil }
        let curves = try CompressionExperiment.realCurves(
            real: realData, test: testData, sizes: sizeList, settings: settings, epochs: curveEpochs, cached: cached,
            save: { c in if let curve { try Files.writeAtomically(c.encoded(), to: curve) } },
            progress: { n, stage, p in
                line.emit(trainingLine("real \(n) (same \(stage == .sameSteps ? "steps" : "epochs"))", p), final: p.step == p.totalSteps)
            })

        var placements: [CompressionPlacement] = []
        for (dir, data) in sets {
            let manifest = try? Manifest.read(Files.join(dir, ShardFiles.manifest))
            let stored = retrain ? nil : try manifest.flatMap { try DatasetEvaluations.of($0).storedWhole(test: testData.name, settings: syntheticSettings) }
            let cas: CASResult
            if let stored {
                cas = stored
            } else {
                cas = try CAS.run(train: data, test: testData, settings: syntheticSettings) { p in
                    line.emit(trainingLine("\(dir) (CAS)", p), final: p.step == p.totalSteps)
                }.result
            }
            let placement = CompressionPlacement.place(manifest: manifest, dataset: manifest?.name ?? dir, samples: data.count,
                                                       cas: cas, curves: curves)
            placements.append(placement)
            if !noRecord && manifest != nil {
                try ManifestUpdate.modify(dir: dir) { m in
                    var ev = try DatasetEvaluations.of(m)
                    ev.record(cas)
                    ev.place(placement)
                    ev.save(into: &m)
                }
                try DatasetReport.refresh(dir: dir, data: data)
            }
        }

        let table = CompressionTable(curves: curves, datasets: placements)
        if let out { try Files.writeAtomically(Array(JSONOutput.string(table).utf8) + [10], to: out) }
        if json {
            print(JSONOutput.string(table))
        } else {
            print(CompressionText.markdown(table))
        }
    }

    private func parseSizes(_ text: String) throws -> [Int] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = items.compactMap { Int($0) }
        guard !items.isEmpty, values.count == items.count, values.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--sizes '\(text)': expected positive integers separated by commas")
        }
        return values
    }
}
