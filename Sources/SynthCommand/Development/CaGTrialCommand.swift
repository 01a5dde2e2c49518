import ArgumentParser
import Datasets
import Engine
import Filter
import Foundation
import Measure
import Models
import Support
import Synth
import Training

/// A development driver for CaG's priors, independent of the build pipeline: generate K accepted
/// samples per class (filtered by an independent classifier, as `synth build` does), train a
/// ref-cnn on them alone, and report the Classification Accuracy Score on real test data.
struct CaGTrialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cag-trial",
        abstract: "Generate with CaG, filter, and measure CAS in one go (a development driver).",
        discussion: """
        CaG settings, --source-option KEY=VALUE (repeatable), as synth build takes them:
        \(CaGConfig.settingsHelp())
        """,
        shouldDisplay: false
    )

    @Option(help: "Classifier to invert (default: models/teacher-ref-cnn.safetensors).") var classifier: String?
    @Option(help: "Reconstruction module (default: models/cag-ref-recon.safetensors).") var reconstructor: String?
    @Option(help: "Directory of the default models.") var models = "models"
    @OptionGroup var sourceOptions: SourceOptions
    @Option(help: "Classes to generate (default: all of the classifier's).") var classes: Int?
    @Option(help: "Accepted samples per class.") var perClass = 200
    @Option(help: "Independent filter classifier (none: accept every candidate).") var filter: String?
    @Option(help: "Filter probability threshold.") var threshold: Float = 0.9
    @Option(help: "Give up on a class after this many candidates per wanted sample.") var maxFactor = 4
    @Option(help: "CAS: ref-cnn training steps (batch 128); 0 skips the CAS.") var casSteps = 4690
    @Option(help: "CAS test data.") var test = "fashion-mnist:test"
    @Option(help: "Write a preview grid (one row per class) to this PNG.") var preview: String?
    @Option(help: "Write the accepted samples as a folder: dataset here.") var folder: String?
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Append a JSON line with the result to this file.") var log: String?
    @Option(help: "Name of this trial in the log.") var name = "trial"
    @Flag(help: "Print the loss terms every 10 steps of the first batch.") var trace = false
    @Option(help: "Print the loss terms of real images of each class from this spec (what the priors aim at), then stop.") var calibrate: String?

    func run() throws {
        let source = try CaGSource.make(classifier: classifier, reconstructor: reconstructor, options: try sourceOptions.values(), modelsDirectory: models)
        if let calibrate {
            let real = try Dataset.load(spec: calibrate)
            var c = source.sampler.config
            c.parameterization = .clamp
            c.progressive = false
            c.resolutions = []
            let probe = try CaGSampler(classifiers: source.sampler.classifiers, reconstructor: source.sampler.reconstructor, config: c)
            var rng = RNG(seed: 1)
            let b = c.batch, per = real.imageSize
            for cls in 0..<real.classCount {
                let idx = Array(real.labels.indices.filter { real.labels[$0] == cls }.prefix(b))
                let x = Tensor(uninitialized: [idx.count, real.channels, real.height, real.width])
                for (r, i) in idx.enumerated() { for j in 0..<per { x.ptr[r * per + j] = Float(real.pixels[i * per + j]) / 255 } }
                let mask = probe.reconstructor.map { g in PatchMask.random(count: idx.count, height: real.height, width: real.width, patch: g.patch, ratio: g.maskRatio, rng: &rng) }
                let (_, p) = Autodiff.withoutGrad { probe.objective(parameter: x, labels: Array(repeating: cls, count: idx.count), mask: mask) }
                print(String(format: "real class %d  total %.4f  ce %.4f  div %.4f  dist %.4f  bn %.4f  rec %.4f  tv %.4f", cls, p.total,
                             p.classification, p.diversity, p.distribution, p.batchNorm, p.reconstruction, p.totalVariation))
            }
            return
        }
        if trace {
            var batches = 0
            source.onStep = { step, p in
                if step == 1 { batches += 1 }
                if batches == 1 && (step % 10 == 0 || step == 1) {
                    print(String(format: "step %3d  total %.4f  ce %.4f  div %.4f  dist %.4f  bn %.4f  rec %.4f  target %.4f  tv %.4f", step, p.total,
                                 p.classification, p.diversity, p.distribution, p.batchNorm, p.reconstruction, p.target, p.totalVariation))
                }
            }
        }
        let k = classes ?? source.classNames.count
        try source.checkClasses(k)
        let filterModel = try filter.map { try ModelFile.loadClassifier($0) }
        let shape = source.imageShape, per = shape.reduce(1, *)
        var pixels: [UInt8] = [], labels: [Int] = []
        var candidates = [Int](repeating: 0, count: k), accepted = [Int](repeating: 0, count: k)
        let start = Date()
        for c in 0..<k {
            var chunk: UInt64 = 0
            while accepted[c] < perClass && candidates[c] < maxFactor * perClass {
                // Rounds of two joint batches; without a filter every candidate is kept, so ask
                // for no more than are wanted.
                let round = 2 * source.sampler.config.batch
                let n = filterModel == nil ? min(round, perClass - accepted[c]) : round
                let images = try source.generate(label: c, count: n, seed: RNG.derive(seed, UInt64(c), chunk))
                chunk += 1
                candidates[c] += n
                // Judged as the shards would store them.
                let candidatePixels = try Quantize.pixels(images)
                for i in accept(candidatePixels, count: n, label: c, filter: filterModel) where accepted[c] < perClass {
                    pixels += candidatePixels[(i * per)..<((i + 1) * per)]
                    labels.append(c)
                    accepted[c] += 1
                }
            }
            let elapsed = Date().timeIntervalSince(start)
            FileHandle.standardError.write(Data(String(format: "class %d: %d accepted of %@ (%.0f%%), %.0f s\n",
                                                       c, accepted[c], counted(candidates[c], "candidate"), 100 * Double(accepted[c]) / Double(candidates[c]), elapsed).utf8))
        }
        let genSeconds = Date().timeIntervalSince(start)
        let names = Array(source.classNames.prefix(k))
        let data = Dataset(name: "cag:\(name)", pixels: pixels, count: labels.count, channels: shape[0], height: shape[1], width: shape[2],
                           labels: labels, classNames: names)
        if let preview { try writePreview(data, to: preview) }
        if let folder { try writeFolder(data, to: folder) }
        let totalCandidates = candidates.reduce(0, +)
        var result: [String: String] = [
            "name": name, "samples": String(data.count), "candidates": String(totalCandidates),
            "acceptance": String(format: "%.4f", Double(data.count) / Double(max(totalCandidates, 1))),
            "per_class_acceptance": candidates.indices.map { String(format: "%.2f", Double(accepted[$0]) / Double(max(candidates[$0], 1))) }.joined(separator: ","),
            "generate_seconds": String(format: "%.1f", genSeconds),
            "candidates_per_second": String(format: "%.2f", Double(totalCandidates) / genSeconds),
            "args": CommandLine.arguments.dropFirst().joined(separator: " "),
        ]
        print("generated \(data.count) accepted of \(counted(totalCandidates, "candidate")) in \(String(format: "%.0f", genSeconds)) s")
        if casSteps > 0 && data.count > 0 {
            let testSet = try Dataset.load(spec: test)
            let stats = data.channelStatistics()
            let card = ModelCard(kind: "classifier", arch: "ref-cnn", classNames: names, channels: shape[0], height: shape[1], width: shape[2],
                                 mean: stats.mean, std: stats.std)
            let model = try Architectures.classifier(card, seed: 0)
            let casStart = Date()
            try ClassifierTrainer(config: TrainingConfig(length: .steps(casSteps), batchSize: 128, seed: 0)).train(model, on: data)
            let ev = try Evaluation.run(model, on: testSet)
            result["cas"] = String(format: "%.4f", ev.accuracy)
            result["cas_per_class"] = ev.perClassAccuracy.map { String(format: "%.2f", $0) }.joined(separator: ",")
            result["cas_seconds"] = String(format: "%.1f", Date().timeIntervalSince(casStart))
            print(String(format: "CAS %.4f on %@ (ref-cnn, %@ of 128 on %@); per class %@", ev.accuracy, testSet.name,
                         counted(casSteps, "step"), counted(data.count, "sample"), result["cas_per_class"]!))
        }
        if let log {
            let line = JSONOutput.string(result).replacingOccurrences(of: "\n", with: "") + "\n"
            if let h = FileHandle(forWritingAtPath: log) { h.seekToEndOfFile(); h.write(Data(line.utf8)); h.closeFile() }
            else { try Files.writeAtomically(Array(line.utf8), to: log) }
        }
    }

    /// Indices of the `count` candidates (8-bit, image after image) the filter accepts: its argmax
    /// is the label and its probability above the threshold.
    func accept(_ pixels: [UInt8], count n: Int, label: Int, filter: Classifier?) -> [Int] {
        guard let filter else { return Array(0..<n) }
        let card = filter.card
        return Autodiff.withoutGrad {
            let x = Tensor(uninitialized: [n] + card.inputShape)
            PixelNormalization(mean: card.mean, std: card.std, channels: card.channels)
                .apply(pixels, images: n, plane: card.height * card.width, into: x.ptr)
            let p = softmax(filter(x))
            let kc = card.classes
            return (0..<n).filter { i in
                let row = p.ptr + i * kc
                var best = 0
                for j in 1..<kc where row[j] > row[best] { best = j }
                return best == label && row[best] > threshold
            }
        }
    }

    /// One row per class, its first 16 samples; a 1-pixel gap after every cell, on dark gray.
    func writePreview(_ data: Dataset, to path: String) throws {
        let columns = 16
        var grid = ImageGrid(rows: data.classNames.count, columns: columns, channels: data.channels, cellHeight: data.height,
                             cellWidth: data.width, gap: 1, trailingMargin: 1, background: 40)
        var filled = [Int](repeating: 0, count: data.classNames.count)
        for i in 0..<data.count where filled[data.labels[i]] < columns {
            grid.place(data.image(i), row: data.labels[i], column: filled[data.labels[i]])
            filled[data.labels[i]] += 1
        }
        try Files.writeAtomically(grid.png, to: path)
    }

    func writeFolder(_ data: Dataset, to dir: String) throws {
        let fm = FileManager.default
        for (c, name) in data.classNames.enumerated() {
            try fm.createDirectory(atPath: "\(dir)/\(String(format: "%03d", c))-\(name.replacingOccurrences(of: "/", with: "_"))", withIntermediateDirectories: true)
        }
        var index = [Int](repeating: 0, count: data.classNames.count)
        for i in 0..<data.count {
            let c = data.labels[i]
            let path = "\(dir)/\(String(format: "%03d", c))-\(data.classNames[c].replacingOccurrences(of: "/", with: "_"))/\(String(format: "%06d", index[c])).png"
            index[c] += 1
            try Files.writeAtomically(PNG.encode(pixels: Array(data.image(i)), width: data.width, height: data.height, channels: data.channels), to: path)
        }
    }
}
