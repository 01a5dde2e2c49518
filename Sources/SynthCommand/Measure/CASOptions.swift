import ArgumentParser
import Datasets
import Engine
import Foundation
import Measure
import Models
import Shards
import Support
import Training

/// The training flags every CAS-style measurement shares (cas, compress), so a synthetic set and
/// the real subsets it is compared with are trained the same way.
struct CASOptions: ParsableArguments {
    // Numbers are parsed .unconditional so "-5" reaches validate(), which names the flag.
    @Option(help: "Architecture: \(Architectures.classifiers.joined(separator: ", ")).") var arch = "ref-cnn"
    @Option(parsing: .unconditional, help: "Optimisation steps (default \(CASSettings.defaultSteps), the design's yardstick).") var steps: Int?
    @Option(parsing: .unconditional, help: "Passes over the training data instead of --steps.") var epochs: Int?
    @Option(parsing: .unconditional, help: "Batch size.") var batch = 128
    @Option(parsing: .unconditional, help: "Adam learning rate.") var lr: Float = 1e-3
    @Option(help: "Learning-rate schedule: cosine (decay to zero over the run, as synth train) or constant.") var schedule: LearningRateSchedule = .cosine
    @Option(parsing: .unconditional, help: "Random seed (initialisation and batch order).") var seed: UInt64 = 0

    func validate() throws {
        try validateTrainingFlags(epochs: epochs, steps: steps, batch: batch, lr: lr)
        if !Architectures.classifiers.contains(arch) {
            throw ValidationError("unknown architecture '\(arch)' (known: \(Architectures.classifiers.joined(separator: ", ")))")
        }
    }

    /// Hard-label settings; SoftLabelOptions.applied(to:) adds --soft and --temperature.
    func settings() -> CASSettings {
        CASSettings(arch: arch, length: epochs.map { .epochs($0) } ?? .steps(steps ?? CASSettings.defaultSteps), batchSize: batch,
                    learningRate: lr, cosine: schedule == .cosine, seed: seed)
    }
}

/// --soft and --temperature: how a synthetic set's stored probability vectors are trained on
/// (cas, compress). One spelling of the flags and their checks.
struct SoftLabelOptions: ParsableArguments {
    @Flag(help: "Train on the stored probability vectors (distillation) instead of the hard labels.") var soft = false
    @Option(parsing: .unconditional, help: "With --soft: the targets' temperature (p^(1/T), renormalised).") var temperature: Float = 1

    func validate() throws {
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature \(temperature): must be a positive number") }
        if temperature != 1 && !soft { throw ValidationError("--temperature \(temperature) needs --soft (it tempers the stored probabilities)") }
    }

    /// `settings` trained this way.
    func applied(to settings: CASSettings) -> CASSettings {
        var s = settings
        s.soft = soft
        s.temperature = temperature
        return s
    }
}

/// A data spec that names a dataset synth wrote (shards:DIR with a manifest.json, any @N):
/// its directory, whose manifest can take evaluations and a report.
enum SynthDatasetDir {
    static func of(_ spec: DataSpec) -> String? {
        guard case .shards(let dir) = spec.base, Files.exists(Files.join(dir, ShardFiles.manifest)) else { return nil }
        return dir
    }

    /// `DIR` or `shards:DIR[@N]` as a spec: a bare existing directory is read as shards.
    static func spec(_ text: String) throws -> DataSpec {
        if Files.isDirectory(text) { return .shards(dir: text) }
        return try DataSpec(parsing: text)
    }
}

/// Progress of a training run on one line (terminal) or one line per epoch (pipes, --verbose).
func trainingLine(_ label: String, _ p: TrainingProgress) -> String {
    String(format: "%@  step %d/%d  loss %.4f  %.0f samples/s  ETA %@", label, p.step, p.totalSteps, p.loss,
           p.samplesPerSecond, ProgressLine.duration(p.etaSeconds))
}
