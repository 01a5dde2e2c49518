import Datasets
import Engine
import Foundation
import Measure
import Models
import Pipeline
import Shards
import Support

/// The models `synth audit` checks for membership inference: those of the build record, found in
/// the models directory by file name and checked against their recorded SHA-256, and any given.
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
        if Self.classifierRoles.contains(role) || role == "given" {
            let model = try ModelFile.loadClassifier(path)
            return try MembershipInference.check(model, role: role, path: name, sha256: sha256, training: training, holdout: holdout)
        }
        var skipped = "not a classifier or discriminator"
        if role == "generator" || role == "input-generator" || role == "source" {
            let file = try Safetensors.read(path)
            skipped = file.names.contains { $0.hasPrefix("d.") }
                ? "holds a discriminator, whose check is not implemented"
                : "no discriminator in the file (the export keeps the generator only)"
        }
        return .init(role: role, path: name, sha256: sha256, skipped: skipped)
    }
}
