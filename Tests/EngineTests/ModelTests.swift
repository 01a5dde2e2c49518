import Foundation
import Testing
import TestSupport
@testable import Engine
import Support
@testable import Models

/// The architectures by name, their state-dict names, and checkpoint interchange with PyTorch.
@Suite struct ModelTests {
    static func card(_ arch: String, classes: Int = 10, channels: Int = 1, side: Int = 28) -> ModelCard {
        ModelCard(kind: "classifier", arch: arch, classNames: (0..<classes).map { "c\($0)" },
                  channels: channels, height: side, width: side, mean: Array(repeating: 0.286, count: channels),
                  std: Array(repeating: 0.353, count: channels))
    }

    @Test func refCNNStateDictMatchesTheReference() throws {
        let model = try Architectures.classifier(Self.card("ref-cnn"), seed: 1)
        let names = model.stateDict().map(\.name)
        #expect(names == ["c1.weight", "c1.bias", "b1.weight", "b1.bias", "b1.running_mean", "b1.running_var", "b1.num_batches_tracked",
                          "c2.weight", "c2.bias", "b2.weight", "b2.bias", "b2.running_mean", "b2.running_var", "b2.num_batches_tracked",
                          "f1.weight", "f1.bias", "f2.weight", "f2.bias"])
        #expect(model.parameterCount == 421_834)
    }

    @Test(arguments: [(1, 28), (3, 32)])
    func architecturesRunForward(channels: Int, side: Int) throws {
        for arch in Architectures.classifiers {
            let model = try Architectures.classifier(Self.card(arch, classes: 7, channels: channels, side: side), seed: 2)
            let x = randn([3, channels, side, side], seed: 3, requiresGrad: false)
            let logits = model(x)
            #expect(logits.shape == [3, 7])
            #expect(model.features(x).shape == [3, model.featureDimension])
            let loss = crossEntropy(logits, labels: [0, 1, 6])
            loss.backward()
            #expect(model.parameters.allSatisfy { $0.grad != nil }, "\(arch): every parameter gets a gradient")
        }
    }

    @Test func unknownArchitectureIsAClearError() {
        #expect(throws: SynthError.self) { try Architectures.classifier(Self.card("resnet-xl"), seed: 0) }
        do { _ = try Architectures.classifier(Self.card("resnet-xl"), seed: 0) } catch let e as SynthError {
            #expect(e.message.contains("unknown architecture 'resnet-xl'"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func checkpointRoundTripKeepsCardAndLogits() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let model = try Architectures.classifier(Self.card("resnet-s", classes: 4), seed: 5)
        let x = randn([2, 1, 28, 28], seed: 6, requiresGrad: false)
        model.train(); _ = model(x)  // moves running statistics away from their initial values
        model.eval()
        let before = Autodiff.withoutGrad { model(x) }.array
        try ModelFile.save(model, to: dir.file("m.safetensors"), info: ["note": "ünïcode"])
        let loaded = try ModelFile.loadClassifier(dir.file("m.safetensors"))
        #expect(loaded.card.arch == "resnet-s" && loaded.card.classNames == model.card.classNames)
        #expect(loaded.card.info["note"] == "ünïcode")
        #expect(Autodiff.withoutGrad { loaded(x) }.array == before)
    }

    @Test func checkpointWithMismatchedShapesNamesFileAndTensor() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let small = try Architectures.classifier(Self.card("ref-cnn", classes: 3), seed: 1)
        try ModelFile.save(small, to: dir.file("m.safetensors"))
        // Same file, but its metadata claims 10 classes: the head's shape no longer fits.
        var file = try Safetensors.read(dir.file("m.safetensors"))
        file.metadata["class_names"] = "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]"
        try Safetensors.write(file.ordered, metadata: file.metadata, to: dir.file("bad.safetensors"))
        do {
            _ = try ModelFile.loadClassifier(dir.file("bad.safetensors"))
            Issue.record("loaded a checkpoint whose shapes do not fit")
        } catch let e as SynthError {
            #expect(e.message.hasPrefix(dir.file("bad.safetensors")))
            #expect(e.message.contains("f2.weight"))
        }
    }

    /// Both directions against PyTorch: a torch ref-cnn exported with safetensors gives the same
    /// logits in synth, and a synth checkpoint loads strictly into torch with the same logits.
    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is not set: PyTorch interchange not checked"))
    func pytorchInterchange() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let script = Self.torchRefCNN + """
        torch.manual_seed(0)
        m = RefCNN()
        # Non-trivial running statistics and weights: a few training steps on random data.
        opt = torch.optim.Adam(m.parameters(), 1e-2)
        for _ in range(3):
            x = torch.randn(16, 1, 28, 28); opt.zero_grad()
            F.cross_entropy(m(x), torch.randint(0, 10, (16,))).backward(); opt.step()
        m.eval()
        meta = {"format": "synth-checkpoint-1", "kind": "classifier", "arch": "ref-cnn", "hyperparameters": "{}",
                "class_names": json.dumps([str(i) for i in range(10)]), "input_shape": "[1,28,28]",
                "normalization": json.dumps({"mean": [0.286], "std": [0.353]})}
        save_file({k: v.contiguous() for k, v in m.state_dict().items()}, d + "/torch.safetensors", metadata=meta)
        x = torch.randn(8, 1, 28, 28)
        with torch.no_grad():
            save_file({"x": x, "logits": m(x)}, d + "/io.safetensors")
            # The other direction: synth's checkpoint into torch, strictly.
            m2 = RefCNN(); m2.load_state_dict(load_file(d + "/synth.safetensors"), strict=True); m2.eval()
            save_file({"logits": m2(x)}, d + "/synth-logits.safetensors")
        """
        let synthModel = try Architectures.classifier(Self.card("ref-cnn"), seed: 9)
        synthModel.train()
        _ = synthModel(randn([16, 1, 28, 28], seed: 10, requiresGrad: false))
        synthModel.eval()
        try ModelFile.save(synthModel, to: dir.file("synth.safetensors"))
        try #require(ReferencePython.run(script, [dir.path]) != nil)

        let io = try Safetensors.read(dir.file("io.safetensors"))
        let x = Tensor(io.entries["x"]!.array, shape: [8, 1, 28, 28])
        let torchModel = try ModelFile.loadClassifier(dir.file("torch.safetensors"))
        let ours = Autodiff.withoutGrad { torchModel(x) }.array
        let theirs = io.entries["logits"]!.array
        let diff = zip(ours, theirs).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-4, "torch checkpoint in synth: max |logit difference| \(diff)")

        let back = try Safetensors.read(dir.file("synth-logits.safetensors")).entries["logits"]!.array
        let ourLogits = Autodiff.withoutGrad { synthModel(x) }.array
        let diff2 = zip(back, ourLogits).map { abs($0 - $1) }.max()!
        #expect(diff2 < 1e-4, "synth checkpoint in torch: max |logit difference| \(diff2)")
    }

    /// bench/ of this checkout (Tests/EngineTests/ is two levels below the root).
    static let benchDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("bench").path

    /// The preamble of the PyTorch scripts: imports, `d` (the scratch directory) and RefCNN, the
    /// one PyTorch spelling of ref-cnn, which bench/torch_cas.py (the independent CAS) holds.
    static let torchRefCNN = """
    import sys, json, torch, torch.nn as nn, torch.nn.functional as F
    from safetensors.torch import save_file, load_file
    sys.path.insert(0, '\(benchDirectory)')
    from torch_cas import RefCNN
    d = sys.argv[1]

    """
}
