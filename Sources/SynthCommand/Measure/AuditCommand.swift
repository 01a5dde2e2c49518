import ArgumentParser
import Datasets
import Filter
import Foundation
import Measure
import Models
import Pipeline
import Report
import Shards
import Support

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Near-copies, distance to the closest record against a holdout, and membership inference of the models.",
        discussion: """
        For every sample: the nearest image of --real by pixels (RMS difference of [0, 1] pixels, exact) and the most similar by the cosine of a classifier's penultimate features (--model, default the GAN builds' filter model when present). A near-copy is a sample with pixel RMS below --pixel-threshold or (when given) feature cosine above --cosine-threshold. The pixel default lies below the 1st percentile of unseen real images (0.49% of the Fashion-MNIST test images fall under it against the training set; BENCHMARKS.md, "Audit"). The result goes into manifest.json ("audit"; no shard hash covers it, so verify still passes) and report.md/report.html. --max-share S makes the command exit 1 when the near-copy share exceeds S (e.g. 0 for a privacy-preserving export that must hold no copies).

        Against a holdout (--holdout; default fashion-mnist:test for fashion-mnist:train, a CIFAR directory's test split for its train split): each sample's distance to the closest record (DCR) of the training reference and of the holdout, by pixels and by the feature model's centred unit features; the larger set is subsampled (by --seed) to the smaller's size. The share of samples closer to training than to holdout is 0.5 for an export that does not leak its training set, towards 1 for one that reproduces it; --max-leak S exits 1 when the share (by pixels, or by features, whichever is larger) is above S. A data spec's @~N takes the samples its @N leaves out, so one half of a set can be audited against the other (pack fashion-mnist:test@5000, --holdout fashion-mnist:test@~5000).

        Membership inference: every classifier in the manifest's build record (teacher, filter; found in the models directory by file name and checked by SHA-256) and every --membership-model: its loss on the sized training images against the holdout images, as the AUC (and advantage) of a threshold attack; 0.5 means the model reveals nothing. Generator files are listed as skipped when they hold no discriminator (shipped generators keep only the generator).

        Examples:
          synth audit data/gan --real fashion-mnist:train
          synth audit data/gan --max-leak 0.55
          synth audit data/gan --real fashion-mnist:train \\
              --model models/teacher-ref-cnn.safetensors --max-share 0
        """
    )

    @Argument(help: "The dataset directory (or any data spec).") var dir: String
    @Option(help: "The real training data to compare with (the models' training set).") var real = "fashion-mnist:train"
    @Option(help: "Real images the models never saw (default: the test split of --real's fashion-mnist or CIFAR train split).") var holdout: String?
    @Flag(help: "No holdout: the near-copy audit only.") var noHoldout = false
    @Option(help: "Seed of the subsample that sizes the training reference and the holdout alike.") var seed: UInt64 = 1
    @Option(help: "Exit 1 when the share of samples closer to training than to holdout is above this (0.5 = no leak).") var maxLeak: Double?
    @Option(help: "Also check this classifier, or the discriminator of this train-gan checkpoint, for membership inference (repeatable).") var membershipModel: [String] = []
    @Flag(help: "No membership-inference check.") var noMembership = false
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
        if let m = maxLeak, !(m >= 0 && m <= 1) { throw ValidationError("--max-leak must be in [0, 1]") }
        if noHoldout && (holdout != nil || maxLeak != nil) { throw ValidationError("--no-holdout leaves nothing for --holdout or --max-leak") }
        if noMembership && !membershipModel.isEmpty { throw ValidationError("give --membership-model or --no-membership, not both") }
        let rule = NearCopyRule(pixelRMS: pixelThreshold, cosine: cosineThreshold)
        try rule.validate()
        let spec = try SynthDatasetDir.spec(dir)
        let data = try Dataset.load(spec)
        let realData = try Dataset.load(spec: real)
        let holdoutSpec = noHoldout ? nil : try holdout ?? Self.defaultHoldout(real)
        if maxLeak != nil && holdoutSpec == nil {
            throw SynthError("--max-leak needs a holdout: \(real) has no default one (pass --holdout SPEC)")
        }
        let holdoutData = try holdoutSpec.map { try Dataset.load(spec: $0) }
        let manifest = SynthDatasetDir.of(spec).flatMap { try? Manifest.read(Files.join($0, ShardFiles.manifest)) }
        let checks = noMembership || holdoutSpec == nil ? [] : try MembershipModels.resolve(manifest?.build, given: membershipModel)
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
        var (record, _) = try NearCopyAudit.run(data, index: index, rule: rule, model: modelPath, modelSHA256: sha) { done, total in
            line.emit("audit \(done)/\(total)", final: done == total)
        }
        var membership: MembershipRecord?
        if let holdoutSpec, let holdoutData {
            let sized = try HoldoutDCR.sized(training: realData, holdout: holdoutData, seed: seed)
            let dcrLine = ProgressLine()
            record.dcr = try HoldoutDCR.run(data, training: sized.training, holdout: sized.holdout, trainingSpec: real,
                                            trainingAvailable: realData.count, holdoutSpec: holdoutSpec,
                                            holdoutAvailable: holdoutData.count, seed: seed, featureModel: classifier) { done, total in
                dcrLine.emit("distance to closest record \(done)/\(total)", final: done == total)
            }
            if !noMembership {
                membership = MembershipRecord(training: real, holdout: holdoutSpec, samples: sized.training.count,
                                              models: try checks.map { try $0.run(training: sized.training, holdout: sized.holdout) })
            }
        }
        let section = AuditSection(nearCopies: record, membership: membership)
        if !noRecord, let d = SynthDatasetDir.of(spec), !spec.isSubset {
            try ManifestUpdate.modify(dir: d) { m in m.setSection(AuditSection.key, section) }
            try DatasetReport.refresh(dir: d, data: data, real: realData)
        }
        if json {
            print(JSONOutput.string(section))
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
        if !json {
            if let r = record.dcr { Self.printDCR(r) } else { print("no holdout (pass --holdout SPEC): no distance to closest record") }
            for c in membership?.models ?? [] {
                if let auc = c.auc, let adv = c.advantage, let lt = c.trainingMeanLoss, let lh = c.holdoutMeanLoss {
                    print(String(format: "membership %@ (%@): AUC %.4f  advantage %.4f  mean loss training %.4f holdout %.4f",
                                 c.path, c.role, auc, adv, lt, lh))
                } else {
                    print("membership \(c.path) (\(c.role)): skipped, \(c.skipped ?? "not checked")")
                }
            }
        }
        if let m = maxShare, record.share > m {
            throw SynthError(String(format: "%@: near-copy share %.4f is above --max-share %.4f", data.name, record.share, m), exitCode: 1)
        }
        if let m = maxLeak, let r = record.dcr, r.leak > m {
            throw SynthError(String(format: "%@: %.4f of samples are closer to training than to holdout, above --max-leak %.4f",
                                    data.name, r.leak, m), exitCode: 1)
        }
    }

    /// The test split beside a train split: fashion-mnist:train -> fashion-mnist:test, cifar10:DIR:train -> cifar10:DIR:test.
    static func defaultHoldout(_ real: String) throws -> String? {
        switch try DataSpec(parsing: real) {
        case .fashionMNIST(.train): return DataSpec.fashionMNIST(.test).description
        case .cifar10(let dir, .train): return DataSpec.cifar10(dir: dir, split: .test).description
        case .cifar100(let dir, .train): return DataSpec.cifar100(dir: dir, split: .test).description
        default: return nil
        }
    }

    static func printDCR(_ r: HoldoutDCRRecord) {
        print(String(format: "distance to closest record: %d samples against %d of %@ and %d of %@ (seed %@)", r.samples, r.referenceSize,
                     r.training, r.referenceSize, r.holdout, String(r.seed ?? 0)))
        func show(_ what: String, _ m: HoldoutDCRRecord.Measure) {
            print(String(format: "  %@: closer to training %.4f (0.5 = no leak)  5%% DCR training %.4f holdout %.4f  median training %.4f holdout %.4f",
                         what, m.closerToTraining, m.training.p05, m.holdout.p05, m.training.median, m.holdout.median))
        }
        show("pixels", r.pixel)
        if let f = r.features { show("features", f) }
        for c in r.perClass {
            var s = String(format: "  %2d %@ pixels %.3f (5%% %.4f / %.4f)", c.classIndex, c.name.padding(toLength: 14, withPad: " ", startingAt: 0),
                           c.pixelCloserToTraining, c.pixelTrainingP05, c.pixelHoldoutP05)
            if let f = c.featureCloserToTraining, let a = c.featureTrainingP05, let b = c.featureHoldoutP05 {
                s += String(format: "  features %.3f (5%% %.4f / %.4f)", f, a, b)
            }
            print(s)
        }
    }
}
