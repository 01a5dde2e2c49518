import ArgumentParser
import Engine
import Foundation
import Models
import Support

struct BenchInputGradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "input-gradient",
        abstract: "A classifier's forward pass and backward pass to its input (what CaG runs every step).",
        discussion: """
        The classifier is frozen; each repeat runs logits = f(x) on a batch of random pixels and backpropagates sum(logits * r) to x. Prints milliseconds per forward + backward (median of the repeats, after one warm-up). bench/onnx_speed.sh runs the same work in PyTorch beside it.

        Example:
          synth bench input-gradient --model models/teacher-ref-cnn.safetensors
        """
    )

    @Option(help: "Classifier: a checkpoint (.safetensors) or an ONNX model (.onnx).") var model: String
    @Option(help: "Images per batch.") var batch = 64
    @Option(help: "Timed repeats.") var repeats = 5
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        let f = try ModelFile.loadClassifier(model)
        f.eval()
        f.freeze()
        var rng = RNG(seed: 0)
        let x = Tensor(zeros: [batch] + f.card.inputShape, requiresGrad: true)
        rng.fillUniform(x.ptr, count: x.count, low: 0, high: 1)
        var times: [Double] = []
        var flops = 0
        for i in 0...repeats {
            let flops0 = GEMMCount.flops
            x.zeroGrad()
            let start = Date()
            let logits = f(x)
            let r = Tensor(filled: 1, shape: logits.shape)
            logits.backward(seed: r)
            if i > 0 { times.append(Date().timeIntervalSince(start) * 1000) }
            flops = GEMMCount.flops - flops0   // the same work every repeat
        }
        let median = times.sorted()[times.count / 2]
        // A representative GEMM of a small CNN: a 64 -> 64-channel 3x3 conv over a 32x32 batch.
        let roof = SgemmRoof.measure(m: 64, n: 4096, k: 576)
        if json {
            print(JSONOutput.string(["milliseconds": median, "batch": Double(batch), "repeats": Double(repeats),
                                     "gemm_gflops": Double(flops) / (median / 1000) / 1e9, "roof_gflops": roof.gflops]))
        } else {
            print(String(format: "forward + backward to the input: %.1f ms (median of %d, batch %d, %@)", median, repeats, batch,
                         f.card.inputShape.map(String.init).joined(separator: "x")))
            print(roof.describe(flops: flops, seconds: median / 1000))
        }
    }
}
