import ArgumentParser
import Datasets
import Filter
import Foundation
import Models
import Pipeline
import Report
import Shards
import Support

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Find each sample's nearest real training image; report the share of near-copies.",
        discussion: """
        For every sample: the nearest image of --real by pixels (RMS difference of [0, 1] pixels, exact) and the most similar by the cosine of a classifier's penultimate features (--model, default the GAN builds' filter model when present). A near-copy is a sample with pixel RMS below --pixel-threshold or (when given) feature cosine above --cosine-threshold. The pixel default lies below the 1st percentile of unseen real images (0.49% of the Fashion-MNIST test images fall under it against the training set; BENCHMARKS.md, "Audit"). The result goes into manifest.json ("audit"; no shard hash covers it, so verify still passes) and report.md/report.html. --max-share S makes the command exit 1 when the near-copy share exceeds S (e.g. 0 for a privacy-preserving export that must hold no copies).

        Examples:
          synth audit data/gan --real fashion-mnist:train
          synth audit data/gan --real fashion-mnist:train \\
              --model models/teacher-ref-cnn.safetensors --max-share 0
        """
    )

    @Argument(help: "The dataset directory (or any data spec).") var dir: String
    @Option(help: "The real training data to compare with.") var real: String
    @Option(help: "Classifier whose penultimate features give the cosine (default: the default filter model if present).") var model: String?
    @Flag(help: "Pixels only: no feature model.") var noFeatures = false
    @Option(help: "Near-copy if the pixel RMS to the nearest real image is below this.") var pixelThreshold = NearCopyRule.defaultPixelRMS
    @Option(help: "Near-copy also if the feature cosine to the most similar real image is above this.") var cosineThreshold: Double?
    @Option(help: "Exit 1 when the near-copy share is above this (0: no copy allowed).") var maxShare: Double?
    @Flag(help: "Do not write the audit into the manifest or rewrite the report.") var noRecord = false
    @Flag(help: "Print the audit record as JSON.") var json = false

    func run() throws {
        if noFeatures && model != nil { throw ValidationError("give --model or --no-features, not both") }
        if let m = maxShare, !(m >= 0 && m <= 1) { throw ValidationError("--max-share must be in [0, 1]") }
        let rule = NearCopyRule(pixelRMS: pixelThreshold, cosine: cosineThreshold)
        try rule.validate()
        let spec = try SynthDatasetDir.spec(dir)
        let data = try Dataset.load(spec)
        let realData = try Dataset.load(spec: real)
        var modelPath: String?
        if !noFeatures {
            if let model {
                modelPath = model
            } else if Files.exists(BuildDefaults.filterModel) {
                modelPath = BuildDefaults.filterModel
            }
        }
        if rule.cosine != nil && modelPath == nil {
            throw SynthError("--cosine-threshold needs a feature model (--model M; \(BuildDefaults.filterModel) not found)")
        }
        let classifier = try modelPath.map { try ModelFile.loadClassifier($0) }
        let sha = try modelPath.map { try FileDigest.sha256(ofFile: $0) }
        let index = try NearCopyIndex(real: realData, featureModel: classifier)
        let line = ProgressLine()
        let (record, _) = try NearCopyAudit.run(data, index: index, rule: rule, model: modelPath, modelSHA256: sha) { done, total in
            line.emit("audit \(done)/\(total)", final: done == total)
        }
        if !noRecord, let d = SynthDatasetDir.of(spec), spec.limit == nil {
            try ManifestUpdate.modify(dir: d) { m in m.setSection(NearCopyAuditRecord.key, record) }
            try DatasetReport.refresh(dir: d, data: data, real: realData)
        }
        if json {
            print(JSONOutput.string(record))
        } else {
            if modelPath == nil { print("no feature model (pass --model M): pixels only") }
            print(String(format: "%@: %@ of %@ (%.2f%%) against %@ (%@); by pixels %d, by features %d",
                         data.name, counted(record.nearCopies, "near-copy", plural: "near-copies"), counted(record.samples, "sample"),
                         100 * record.share, realData.name, counted(realData.count, "image"),
                         record.nearCopiesByPixels, record.nearCopiesByFeatures))
            let p = record.pixelRMS
            print(String(format: "pixel RMS to nearest real: min %.4f  1%% %.4f  5%% %.4f  median %.4f  95%% %.4f  max %.4f",
                         p.min, p.p01, p.p05, p.median, p.p95, p.max))
            if let c = record.cosine {
                print(String(format: "feature cosine to most similar real: min %.4f  median %.4f  95%% %.4f  99%% %.4f  max %.4f",
                             c.min, c.median, c.p95, c.p99, c.max))
            }
            for c in record.perClass {
                print(String(format: "  %2d %@ %5d samples  %4d near-copies (%.2f%%)  median RMS %.4f", c.classIndex, c.name.padding(toLength: 14, withPad: " ", startingAt: 0),
                             c.samples, c.nearCopies, 100 * c.share, c.pixelRMSMedian))
            }
        }
        if let m = maxShare, record.share > m {
            throw SynthError(String(format: "%@: near-copy share %.4f is above --max-share %.4f", data.name, record.share, m), exitCode: 1)
        }
    }
}
