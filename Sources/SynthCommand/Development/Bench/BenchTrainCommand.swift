import ArgumentParser
import Datasets
import Engine
import Foundation
import Models
import Support
import Training

/// The counterpart of ../shared/reference/torch_train_epoch.py: ref-cnn on Fashion-MNIST, batch
/// 128, Adam 1e-3, seed 0, timed from the first step to the last (data loading excluded, as there).
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Time training epochs of ref-cnn on Fashion-MNIST (compare with torch_train_epoch.py).",
        discussion: """
        Prints seconds, test accuracy, samples/s, peak memory, and the GEMM work's GFLOP/s against an sgemm timed in the same run.

        Example:
          synth bench train --epochs 1
        """
    )

    @Option(help: "Epochs to time.") var epochs = 1
    @Option(help: "Architecture.") var arch = "ref-cnn"
    @Option(help: "Batch size.") var batch = 128
    @Option(help: "Training data spec.") var data = "fashion-mnist:train"
    @Option(help: "Test data spec.") var test = "fashion-mnist:test"
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        let train = try Dataset.load(spec: data), testSet = try Dataset.load(spec: test)
        let stats = train.channelStatistics()
        let card = ModelCard(kind: "classifier", arch: arch, classNames: train.classNames, channels: train.channels,
                             height: train.height, width: train.width, mean: stats.mean, std: stats.std)
        let model = try Architectures.classifier(card, seed: 0)
        let trainer = ClassifierTrainer(config: TrainingConfig(length: .epochs(epochs), batchSize: batch, seed: 0))
        let cpu0 = ProcessTimes.cpuSeconds()
        let flops0 = GEMMCount.flops
        let t0 = Date()
        try trainer.train(model, on: train)
        let seconds = Date().timeIntervalSince(t0)
        let cpu = ProcessTimes.cpuSeconds() - cpu0
        let flops = GEMMCount.flops - flops0
        // The FLOP-heaviest GEMM of ref-cnn: its second conv (32 -> 64 channels, 3x3) on a chunk.
        let roof = SgemmRoof.measure(m: 64, n: 4096, k: 288)
        let acc = try Evaluation.run(model, on: testSet).accuracy
        let result = BenchTrainResult(arch: arch, epochs: epochs, batch: batch, seconds: seconds, cpuSeconds: cpu,
                                      samplesPerSecond: Double(epochs * train.count) / seconds, testAccuracy: acc,
                                      peakResidentMB: ProcessTimes.peakResidentMB(), cores: Parallel.cores,
                                      gemmGflops: Double(flops) / seconds / 1e9, roofGflops: roof.gflops)
        if json {
            print(JSONOutput.string(result))
        } else {
            print(String(format: "seconds %.2f acc %.4f  (%.0f samples/s, cpu %.1f s, peak RSS %.0f MB, %d cores)",
                         seconds, acc, result.samplesPerSecond, cpu, result.peakResidentMB, Parallel.cores))
            print(roof.describe(flops: flops, seconds: seconds))
        }
    }
}

struct BenchTrainResult: Encodable {
    let arch: String, epochs: Int, batch: Int
    let seconds: Double, cpuSeconds: Double, samplesPerSecond: Double, testAccuracy: Double
    let peakResidentMB: Double, cores: Int
    /// GEMM FLOPs of the epochs per second, and the sgemm roof timed after them.
    let gemmGflops: Double, roofGflops: Double
}

enum ProcessTimes {
    /// User + system CPU seconds of this process so far.
    static func cpuSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }

    /// Peak resident set size (Linux reports ru_maxrss in KiB).
    static func peakResidentMB() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
    }
}
