import Datasets
import Foundation
import Models
import Support
import Training

/// Small classifiers for the pipeline's and the command line's tests: resnet-s at width 4, trained briefly on
/// Fashion-MNIST (debug builds train slowly). Saved under the temporary directory with a versioned
/// name and reused by later test processes (the training is deterministic, so any copy is the same).
public enum Fixtures {
    public static let fashionAvailable = FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
        || ProcessInfo.processInfo.environment["SYNTH_DATA_DIR"] != nil

    private static let lock = NSLock()

    /// A filter classifier (seed 1) or a second, different one (seed 2).
    public static func classifier(seed: UInt64 = 1) throws -> String {
        try lock.withLock {
            let path = NSTemporaryDirectory() + "synth-test-filter-v1-seed\(seed).safetensors"
            if FileManager.default.fileExists(atPath: path), (try? ModelFile.loadClassifier(path)) != nil { return path }
            let data = try Dataset.load(spec: "fashion-mnist:train@3000")
            let stats = data.channelStatistics()
            let card = ModelCard(kind: "classifier", arch: "resnet-s", hyperparameters: ["width": 4], classNames: data.classNames,
                                 channels: 1, height: 28, width: 28, mean: stats.mean, std: stats.std)
            let model = try Architectures.classifier(card, seed: seed)
            let config = TrainingConfig(length: .steps(60), batchSize: 64, learningRate: 3e-3, seed: seed)
            try ClassifierTrainer(config: config).train(model, on: data)
            let tmp = path + ".\(getpid()).tmp"
            try ModelFile.save(model, to: tmp)
            rename(tmp, path)
            return path
        }
    }
}

/// Every file of a directory (hidden ones too) with its SHA-256.
public func directoryHashes(_ dir: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for f in try Files.list(dir) { out[f] = try FileDigest.sha256(ofFile: Files.join(dir, f)) }
    return out
}
