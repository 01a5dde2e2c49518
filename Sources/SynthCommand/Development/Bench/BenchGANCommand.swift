import ArgumentParser
import Datasets
import Engine
import Foundation
import Support
import Synth
import Training

/// The counterpart of bench/gan_step_torch.py: one `synth train-gan` step (D step on a joint
/// real + fake batch, G step through a frozen D, EMA), timed over the steps after a warm-up.
struct BenchGANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gan",
        abstract: "Time GAN training steps (compare with bench/gan_step_torch.py).",
        discussion: """
        Same work as python3 bench/gan_step_torch.py [steps] [batch] [block] [width]: the residual GAN of train-gan on Fashion-MNIST, hinge losses, Adam (2e-4, betas 0.5, 0.999), EMA. Prints ms per step after 10 warm-up steps, and the GEMM work's GFLOP/s against an sgemm timed in the same run.

        Example:
          synth bench gan --steps 20
        """
    )

    @Option(help: "Steps to time (after 10 warm-up steps).") var steps = 40
    @Option(help: "Batch size.") var batch = 64
    @Option(help: "Residual block: add or concat.") var block = "concat"
    @Option(help: "Generator and discriminator width.") var width = 24
    @Option(help: "Training data spec.") var data = "fashion-mnist:train"
    @Flag(help: "Print the result as JSON.") var json = false

    static let warmUp = 10

    func validate() throws {
        if steps < 1 { throw ValidationError("--steps must be at least 1") }
        if batch < 2 { throw ValidationError("--batch must be at least 2") }
        if width < 1 { throw ValidationError("--width must be at least 1") }
        if GANConfig.Block(rawValue: block) == nil { throw ValidationError("--block must be add or concat") }
    }

    func run() throws {
        let dataset = try Dataset.load(spec: data)
        let gan = GANConfig(channels: dataset.channels, height: dataset.height, width: dataset.width,
                            classNames: dataset.classNames, block: GANConfig.Block(rawValue: block)!,
                            generatorWidth: width, discriminatorWidth: width)
        let trainer = try GANTrainer(gan: gan, training: GANTrainingConfig(steps: Self.warmUp, batchSize: batch),
                                     data: dataset)
        try trainer.run(reportEvery: Self.warmUp)
        try trainer.setTotalSteps(Self.warmUp + steps)
        let flops0 = GEMMCount.flops
        let start = Date()
        try trainer.run(reportEvery: steps)
        let seconds = Date().timeIntervalSince(start)
        let flops = GEMMCount.flops - flops0
        // The FLOP-heaviest GEMM of the step: the generator's first block's up-sampling conv, run
        // on the small input (upsampleConv2d: 4 phases x 2w outputs, 4w channels x 2x2 taps), over a
        // sample group's columns (32 samples of the 8x8 phase grid at width 24, batch 64).
        let roof = SgemmRoof.measure(m: 8 * width, n: 2048, k: 16 * width)
        let ms = seconds / Double(steps) * 1000
        if json {
            print(JSONOutput.string(["ms_per_step": ms, "seconds": seconds, "steps": Double(steps), "batch": Double(batch),
                                     "width": Double(width), "gemm_gflops": Double(flops) / seconds / 1e9,
                                     "roof_gflops": roof.gflops]))
        } else {
            print(String(format: "ms/step %.1f (%d steps after %d warm-up, batch %d, ", ms, steps, Self.warmUp, batch)
                  + "\(block), width \(width), " + String(format: "%.2f s)", seconds))
            print(roof.describe(flops: flops, seconds: seconds))
        }
    }
}
