import ArgumentParser
import Datasets
import Engine
import Foundation
import Models
import Synth

/// Seed 003's Algorithm 1 into a `folder:` dataset, for GAN experiments before (and beside) the
/// shard pipeline: sample a class, keep the image when the filter's argmax is that class and its
/// probability exceeds the threshold.
struct GANSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan-sample",
        abstract: "Filtered GAN samples as a folder of PNGs (experiments; synth build writes shards).",
        shouldDisplay: false
    )

    @Option(parsing: .upToNextOption, help: "Generator(s); several: each sample from one of them.") var generator: [String]
    @Option(help: "Input generator: sample the (single, unconditional) generator through it (gan-latent).") var inputGenerator: String?
    @Option(help: "Filter classifier (omit to keep every sample).") var filter: String?
    @Option(help: "Keep a sample when p[y] exceeds this.") var threshold: Float = 0.9
    @Option(help: "Accepted samples per class.") var perClass: Int
    @Option(help: "Output folder (one sub-folder per class).") var out: String
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Candidates per round and class.") var batch = 200
    @Option(help: "Give up on a class after this many rounds.") var maxRounds = 200

    func run() throws {
        let source: SampleSource
        if let inputGenerator {
            guard generator.count == 1 else { throw SynthError("--input-generator takes exactly one --generator") }
            source = try LatentGANSource(generatorPath: generator[0], inputGeneratorPath: inputGenerator)
        } else {
            source = try GANSource(generatorPaths: generator)
        }
        let classifier = try filter.map { try ModelFile.loadClassifier($0) }
        if let classifier, let filter, classifier.card.inputShape != source.imageShape || classifier.card.classes < source.classNames.count {
            throw SynthError.file(filter, "does not fit the generator's \(source.imageShape) images and \(source.classNames.count) classes")
        }
        let c = source.imageShape[0], h = source.imageShape[1], w = source.imageShape[2], size = c * h * w
        var report: [String] = []
        var totalTried = 0
        for label in 0..<source.classNames.count {
            let name = String(format: "%02d-", label) + source.classNames[label].map { $0.isLetter || $0.isNumber || $0 == "-" ? String($0) : "_" }.joined()
            let dir = (out as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var accepted = 0, tried = 0, wrong = 0, low = 0, round = 0
            while accepted < perClass {
                guard round < maxRounds else {
                    throw SynthError("class \(label) (\(source.classNames[label])): only \(accepted) of \(perClass) accepted after \(tried) candidates")
                }
                let x = try source.generate(label: label, count: batch, seed: RNG.derive(seed, UInt64(label), UInt64(round)))
                round += 1
                tried += batch
                var keep = [Bool](repeating: true, count: batch)
                if let classifier {
                    let p = Autodiff.withoutGrad { softmax(classifier(normalised(x, classifier.card))) }
                    let k = p.shape[1]
                    for i in 0..<batch {
                        let row = p.ptr + i * k
                        var best = 0
                        for j in 1..<k where row[j] > row[best] { best = j }
                        if best != label { keep[i] = false; wrong += 1 } else if row[label] <= threshold { keep[i] = false; low += 1 }
                    }
                }
                for i in 0..<batch where keep[i] && accepted < perClass {
                    let bytes = (0..<size).map { UInt8((min(max(x.ptr[i * size + $0], 0), 1) * 255).rounded()) }
                    let png = PNG.encode(pixels: bytes, width: w, height: h, channels: c)
                    let path = (dir as NSString).appendingPathComponent(String(format: "%06d.png", accepted))
                    guard FileManager.default.createFile(atPath: path, contents: Data(png)) else { throw SynthError.file(path, "cannot write") }
                    accepted += 1
                }
            }
            totalTried += tried
            let padded = source.classNames[label].padding(toLength: max(12, source.classNames[label].count), withPad: " ", startingAt: 0)
            report.append(String(format: "  %2d %@ tried %6d  wrong class %6d  low confidence %6d  acceptance %.3f",
                                 label, padded, tried, wrong, low, Double(tried - wrong - low) / Double(tried)))
        }
        print("wrote \(perClass * source.classNames.count) samples to \(out) (\(totalTried) candidates)")
        report.forEach { print($0) }
    }

    func normalised(_ x: Tensor, _ card: ModelCard) -> Tensor {
        let t = Tensor(uninitialized: x.shape)
        let plane = x.shape[2] * x.shape[3], c = x.shape[1]
        for i in 0..<x.count {
            let ch = (i / plane) % c
            t.ptr[i] = (x.ptr[i] - card.mean[ch]) / card.std[ch]
        }
        return t
    }
}
