import Datasets
import Engine
import Foundation
import Models
import Support
import Training

/// A membership-inference check of the models an export came from: a threshold attack that calls
/// an image a training member when the model's loss on it is below a threshold. Its AUC over all
/// thresholds is the chance that a random training image has a lower loss than a random holdout
/// image (ties half): 0.5 when the model reveals nothing of its training set, 1 when every
/// training image is told apart. The advantage is the best threshold's TPR - FPR.
///
/// It lives in Measure because it measures models (their losses on images, Training's
/// `Evaluation`), where the distance audit (Filter's `HoldoutDCR`) measures the export's images.
public struct MembershipRecord: Codable, Equatable, Sendable {
    public static let definitionText = "threshold attack on each model's per-image signal (classifiers: cross-entropy loss; GAN discriminators: the negated score; lower = member): "
        + "auc = P(signal(training image) < signal(holdout image)), ties half, over the sized training reference and holdout; "
        + "advantage = max over thresholds of TPR - FPR. 0.5 / 0 = the model reveals nothing."

    public struct ModelCheck: Codable, Equatable, Sendable {
        /// The role in the build record ("classifier", "filter", ...) or "given" (--membership-model).
        public var role: String
        public var path: String
        public var sha256: String
        /// "cross-entropy loss"; nil when skipped.
        public var signal: String?
        public var auc: Double?
        public var advantage: Double?
        public var trainingMeanLoss: Double?
        public var holdoutMeanLoss: Double?
        /// Why the model was not checked (e.g. a generator file that holds no discriminator).
        public var skipped: String?
        enum CodingKeys: String, CodingKey {
            case role, path, sha256, signal, auc, advantage, trainingMeanLoss = "training_mean_loss"
            case holdoutMeanLoss = "holdout_mean_loss", skipped
        }

        public init(role: String, path: String, sha256: String, signal: String? = nil, auc: Double? = nil, advantage: Double? = nil,
                    trainingMeanLoss: Double? = nil, holdoutMeanLoss: Double? = nil, skipped: String? = nil) {
            self.role = role; self.path = path; self.sha256 = sha256; self.signal = signal; self.auc = auc
            self.advantage = advantage; self.trainingMeanLoss = trainingMeanLoss; self.holdoutMeanLoss = holdoutMeanLoss
            self.skipped = skipped
        }
    }

    public var training: String
    public var holdout: String
    /// Images on each side (the sized sets of the distance audit).
    public var samples: Int
    public var models: [ModelCheck]

    /// What the numbers mean, written beside them.
    public var definition = MembershipRecord.definitionText

    enum CodingKeys: String, CodingKey { case training, holdout, samples, models, definition }

    public init(training: String, holdout: String, samples: Int, models: [ModelCheck]) {
        self.training = training; self.holdout = holdout; self.samples = samples; self.models = models
    }
}

public enum MembershipInference {
    /// AUC and advantage of the attack "member if signal < t": `members` and `others` are the
    /// signals of training and holdout images.
    public static func attack(members: [Double], others: [Double]) -> (auc: Double, advantage: Double) {
        precondition(!members.isEmpty && !others.isEmpty, "MembershipInference.attack: an empty side")
        // Sweep the signals in ascending order; a run of equal values moves both rates at once.
        let all = (members.map { ($0, true) } + others.map { ($0, false) }).sorted { $0.0 < $1.0 }
        let m = Double(members.count), o = Double(others.count)
        var seenMembers = 0.0, seenOthers = 0.0, pairs = 0.0, advantage = 0.0
        var i = 0
        while i < all.count {
            var j = i, runMembers = 0.0, runOthers = 0.0
            while j < all.count && all[j].0 == all[i].0 {
                if all[j].1 { runMembers += 1 } else { runOthers += 1 }
                j += 1
            }
            // Each holdout image in the run beats the members below it, and ties the run's members.
            pairs += runOthers * (seenMembers + runMembers / 2)
            seenMembers += runMembers; seenOthers += runOthers
            advantage = max(advantage, seenMembers / m - seenOthers / o)
            i = j
        }
        return (pairs / (m * o), advantage)
    }

    /// A GAN discriminator's check: its score says "real", so the signal is -score (lower = member).
    public static func check(discriminator: ResGANDiscriminator, card: ModelCard, role: String, path: String, sha256: String,
                             training: Dataset, holdout: Dataset) throws -> MembershipRecord.ModelCheck {
        func signals(_ d: Dataset) throws -> [Double] {
            guard d.classNames == card.classNames, [d.channels, d.height, d.width] == card.inputShape else {
                throw SynthError.file(path, "is a GAN of \(card.inputShape) images of \(card.classNames.prefix(3).joined(separator: ", "))..., "
                    + "\(d.name) holds \([d.channels, d.height, d.width]) images of \(d.classNames.prefix(3).joined(separator: ", "))...")
            }
            var out = [Double](repeating: 0, count: d.count)
            try Autodiff.withoutGrad {
                try d.forEachBatch(size: 500, normalisedFor: card) { idx, x in
                    let score = discriminator(x, labels: idx.map { d.labels[$0] })
                    for (r, i) in idx.enumerated() {
                        guard score.ptr[r].isFinite else { throw SynthError.file(path, "the discriminator produced a non-finite score") }
                        out[i] = -Double(score.ptr[r])
                    }
                }
            }
            return out
        }
        let a = try signals(training), b = try signals(holdout)
        let (auc, advantage) = attack(members: a, others: b)
        return .init(role: role, path: path, sha256: sha256, signal: "negated discriminator score", auc: auc, advantage: advantage,
                     trainingMeanLoss: a.reduce(0, +) / Double(a.count), holdoutMeanLoss: b.reduce(0, +) / Double(b.count))
    }

    /// A classifier's check on `training` (members) and `holdout` images.
    public static func check(_ model: Classifier, role: String, path: String, sha256: String,
                             training: Dataset, holdout: Dataset) throws -> MembershipRecord.ModelCheck {
        for d in [training, holdout] {
            guard d.classNames == model.card.classNames else {
                throw SynthError.file(path, "classifies \(model.card.classNames.prefix(3).joined(separator: ", "))..., "
                    + "\(d.name) holds \(d.classNames.prefix(3).joined(separator: ", "))...")
            }
        }
        let a: [Double], b: [Double]
        do {
            a = try Evaluation.losses(model, on: training)
            b = try Evaluation.losses(model, on: holdout)
        } catch let e as SynthError {
            throw SynthError.file(path, e.message)
        }
        let (auc, advantage) = attack(members: a, others: b)
        return .init(role: role, path: path, sha256: sha256, signal: "cross-entropy loss", auc: auc, advantage: advantage,
                     trainingMeanLoss: a.reduce(0, +) / Double(a.count), holdoutMeanLoss: b.reduce(0, +) / Double(b.count))
    }
}
