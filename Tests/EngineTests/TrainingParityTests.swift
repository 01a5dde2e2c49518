@testable import Engine
import Foundation
@testable import Models
import TestSupport
import Testing

/// End to end against PyTorch: the same ref-cnn weights, the same batches, Adam 1e-3 — the
/// training losses must follow PyTorch's step by step. Catches what per-op checks cannot: a
/// wrong wiring of the model, of batch norm's running statistics, or of the optimiser.
@Suite struct TrainingParityTests {
    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is not set: training parity with PyTorch not checked"))
    func refCNNTrainingFollowsPyTorch() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let script = ModelTests.torchRefCNN + """
        torch.manual_seed(0)
        m = RefCNN()
        meta = {"format": "synth-checkpoint-1", "kind": "classifier", "arch": "ref-cnn", "hyperparameters": "{}",
                "class_names": json.dumps([str(i) for i in range(10)]), "input_shape": "[1,28,28]",
                "normalization": json.dumps({"mean": [0.0], "std": [1.0]})}
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, d + "/init.safetensors", metadata=meta)
        X = torch.randn(12 * 32, 1, 28, 28); Y = torch.randint(0, 10, (12 * 32,))
        # Class-dependent structure so the loss actually falls.
        X[:, 0, :4, :] += Y[:, None, None].float() * 0.3
        opt = torch.optim.Adam(m.parameters(), 1e-3)
        m.train(); losses = []
        for i in range(12):
            xb, yb = X[i*32:(i+1)*32], Y[i*32:(i+1)*32]
            opt.zero_grad(); l = F.cross_entropy(m(xb), yb); l.backward(); opt.step(); losses.append(l.item())
        m.eval()
        with torch.no_grad(): logits = m(X[:32])
        save_file({"x": X, "y": Y.float(), "losses": torch.tensor(losses), "logits": logits}, d + "/run.safetensors")
        """
        try #require(ReferencePython.run(script, [dir.path]) != nil)
        let run = try Safetensors.read(dir.file("run.safetensors"))
        let xs = run.entries["x"]!.array, ys = run.entries["y"]!.array.map { Int($0) }
        let expected = run.entries["losses"]!.array
        let model = try ModelFile.loadClassifier(dir.file("init.safetensors"))
        model.train()
        let opt = Adam(model.parameters, lr: 1e-3)
        var losses: [Float] = []
        for i in 0..<12 {
            let x = Tensor(Array(xs[(i * 32 * 784)..<((i + 1) * 32 * 784)]), shape: [32, 1, 28, 28])
            let loss = crossEntropy(model(x), labels: Array(ys[(i * 32)..<((i + 1) * 32)]))
            losses.append(loss.item)
            opt.zeroGrad(); loss.backward(); opt.step()
        }
        for (i, (a, b)) in zip(losses, expected).enumerated() {
            #expect(abs(a - b) < 2e-3 * max(1, abs(b)), "step \(i): synth loss \(a), PyTorch \(b)")
        }
        model.eval()
        let logits = Autodiff.withoutGrad { model(Tensor(Array(xs[0..<(32 * 784)]), shape: [32, 1, 28, 28])) }.array
        let theirs = run.entries["logits"]!.array
        let diff = zip(logits, theirs).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-2, "eval logits after training differ by \(diff)")
    }
}
