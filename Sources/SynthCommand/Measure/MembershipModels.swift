import Datasets
import Engine
import Foundation
import Measure
import Models
import Pipeline
import Shards
import Support
import Training

/// The models `synth audit` checks for membership inference: those of the build record, found in
/// the models directory by file name and checked against their recorded SHA-256, and any given
/// (a classifier, or a `train-gan` checkpoint for its discriminator).
struct MembershipModels {
    var role: String
    /// As recorded (a file name) or as given.
    var name: String
    var path: String
    var sha256: String

    static let classifierRoles: Set<String> = ["classifier", "filter"]

    static func resolve(_ build: BuildRecord?, given: [String]) throws -> [MembershipModels] {
        var out: [MembershipModels] = []
        for m in build?.models ?? [] {
            let path = Files.join(BuildDefaults.modelsDirectory, m.path)
            guard Files.exists(path) else {
                throw SynthError.file(path, "the build's \(m.role) model is missing (set SYNTH_MODELS_DIR, or pass --no-membership)")
            }
            let sha = try FileDigest.sha256(ofFile: path)
            guard sha == m.sha256 else {
                throw SynthError.file(path, "is not the \(m.role) model the build used (SHA-256 \(sha.prefix(12))..., recorded \(m.sha256.prefix(12))...)")
            }
            out.append(.init(role: m.role, name: m.path, path: path, sha256: sha))
        }
        for path in given {
            guard Files.exists(path) else { throw SynthError.file(path, "no such model file (--membership-model)") }
            out.append(.init(role: "given", name: path, path: path, sha256: try FileDigest.sha256(ofFile: path)))
        }
        return out
    }

    func run(training: Dataset, holdout: Dataset) throws -> MembershipRecord.ModelCheck {
        if Self.classifierRoles.contains(role) {
            let model = try ModelFile.loadClassifier(path)
            return try MembershipInference.check(model, role: role, path: name, sha256: sha256, training: training, holdout: holdout)
        }
        guard Self.imageModelRoles.contains(role) else {
            return .init(role: role, path: name, sha256: sha256, skipped: "not a classifier or discriminator")
        }
        // A generator file, or (given) a classifier or a train-gan checkpoint, which holds the discriminator.
        if role == "given" && ModelFile.isONNX(path) {
            let model = try ModelFile.loadClassifier(path)
            return try MembershipInference.check(model, role: role, path: name, sha256: sha256, training: training, holdout: holdout)
        }
        let file = try Safetensors.read(path)
        if GANTrainer.isCheckpoint(file) {
            let (d, card) = try GANTrainer.discriminator(fromCheckpoint: path)
            return try MembershipInference.check(discriminator: d, card: card, role: role, path: name, sha256: sha256,
                                                 training: training, holdout: holdout)
        }
        if role == "given" && file.metadata["kind"] != "generator" {
            let model = try ModelFile.loadClassifier(path)
            return try MembershipInference.check(model, role: role, path: name, sha256: sha256, training: training, holdout: holdout)
        }
        return .init(role: role, path: name, sha256: sha256, skipped: "no discriminator in the file (the export keeps the generator only)")
    }

    static let imageModelRoles: Set<String> = ["generator", "input-generator", "source", "given"]
}
