import ArgumentParser
import Engine
import Foundation
import Models
import Synth

struct BenchCaGCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cag",
        abstract: "The CaG inversion loop of torch_cag_loop.py: ref-recon in front of ref-cnn, random weights.",
        discussion: """
        Same work as python3 ../shared/reference/torch_cag_loop.py [batch] [steps] [side]: a fresh random patch mask each step, x -> g(x * m, m) -> ref-cnn features and logits, cross-entropy plus 0.1 x the cosine diversity loss, Adam (lr 0.05) on x only. Prints image-steps per second, and the GEMM work's GFLOP/s against an sgemm timed in the same run.

        Example:
          synth bench cag
        """
    )

    @Option(help: "Images optimised together.") var batch = 64
    @Option(help: "Adam steps.") var steps = 100
    @Option(help: "Image side (divisible by 4).") var side = 28
    @Option(help: "Classes of the random classifier (labels are i mod classes).") var classes = 10
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if batch < 2 { throw ValidationError("--batch must be at least 2") }
        if steps < 1 { throw ValidationError("--steps must be at least 1") }
        if side < 4 || side % 4 != 0 { throw ValidationError("--side must be a positive multiple of 4") }
        if classes < 2 { throw ValidationError("--classes must be at least 2") }
    }

    func run() throws {
        let card = ModelCard(kind: "classifier", arch: "ref-cnn", classNames: (0..<classes).map { "c\($0)" },
                             channels: 1, height: side, width: side, mean: [0.286], std: [0.353])
        let f = try Architectures.classifier(card, seed: 0)
        let g = try Reconstructor(card: Reconstructor.card(channels: 1, height: side, width: side), seed: 0)
        var config = CaGConfig()
        config.progressive = false
        config.resolutions = []
        config.stepsPerStage = [steps]
        config.lr = 0.05
        config.lambdaDiv = 0.1
        config.lambdaDist = 0
        config.lambdaBn = 0
        config.blurSigma = 0
        config.jitter = 0
        config.parameterization = .clamp
        config.output = .x
        config.batch = batch
        let sampler = try CaGSampler(classifiers: [CaGClassifier(f, statistics: nil)], reconstructor: g, config: config)
        let labels = (0..<batch).map { $0 % classes }
        let flops0 = GEMMCount.flops
        let start = Date()
        _ = sampler.sample(labels: labels, seed: 0)
        let dt = Date().timeIntervalSince(start)
        let rate = Double(steps * batch) / dt
        let flops = GEMMCount.flops - flops0
        // The FLOP-heaviest GEMM of the loop: ref-cnn's second conv (32 -> 64 channels, 3x3).
        let roof = SgemmRoof.measure(m: 64, n: 4096, k: 288)
        if json {
            print(JSONOutput.string(["image_steps_per_second": rate, "seconds": dt, "steps": Double(steps), "batch": Double(batch), "side": Double(side),
                                     "gemm_gflops": Double(flops) / dt / 1e9, "roof_gflops": roof.gflops]))
        } else {
            print(String(format: "image-steps/s %.0f (%d steps, batch %d, %dx%d, %.2f s)", rate, steps, batch, side, side, dt))
            print(roof.describe(flops: flops, seconds: dt))
        }
    }
}
