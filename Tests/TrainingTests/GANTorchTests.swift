import Engine
import Foundation
import Support
@testable import Synth
@testable import Training
@testable import Measure
import TestSupport
import Testing

/// bench/resgan.py is the PyTorch twin of resgan-g / resgan-d that the training-step benchmark
/// runs; these tests load synth's state dicts into it and compare training-mode forward passes
/// (batch statistics in G, one power iteration in every spectral norm of D), so the benchmark
/// measures the same network and checkpoints interchange.
@Suite("GAN vs PyTorch")
struct GANTorchTests {
    static let benchDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("bench").path

    static let script = """
    import sys, torch
    from safetensors.torch import load_file
    sys.path.insert(0, sys.argv[1])
    from resgan import Generator, Discriminator
    f = load_file(sys.argv[2])
    ch, side, classes, cond, block, z, w = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == '1', sys.argv[7], int(sys.argv[8]), int(sys.argv[9])
    G = Generator(ch, side, classes, cond, block, z, w); D = Discriminator(ch, classes, cond, block, w)
    G.load_state_dict({k[2:]: v for k, v in f.items() if k.startswith('g.')})
    D.load_state_dict({k[2:]: v for k, v in f.items() if k.startswith('d.')})
    G.train(); D.train()
    y = f['labels'].long()
    with torch.no_grad():
        go = G(f['z'], y); do = D(f['x'], y)
    def rel(a, b): return ((a - b).abs().max() / (b.abs().max() + 1e-6)).item()
    worst = max(rel(go, f['g_out']), rel(do, f['d_out']))
    for k, v in D.state_dict().items():
        if k.endswith('weight_u') or k.endswith('weight_v'):
            worst = max(worst, rel(v, f['after.' + k]))
    worst = max(worst, rel(G.state_dict()['block1.b1.bn.running_var'], f['after.block1.b1.bn.running_var']))
    print(worst)
    """

    static let cases: [(Int, Int, GANConfig.Block, Bool)] = [(1, 28, .concat, true), (3, 32, .add, true), (1, 28, .add, false)]

    @Test("training-mode forward passes equal bench/resgan.py's", .enabled(if: ReferencePython.available, "needs SYNTH_PYTHON (torch, safetensors)"),
          arguments: 0..<3)
    func matchesTorch(_ which: Int) throws {
        let (c, side, block, conditional) = Self.cases[which]
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let cfg = GANConfig(channels: c, height: side, width: side, classNames: (0..<5).map(String.init), conditional: conditional,
                            block: block, zDim: 12, generatorWidth: 4, discriminatorWidth: 4)
        var rng = RNG(seed: 21)
        let g = ResGANGenerator(cfg, rng: &rng), d = ResGANDiscriminator(cfg, rng: &rng)
        // Non-trivial class tables and running statistics.
        for s in g.stateDict() where s.name.hasSuffix("gain.weight") || s.name.hasSuffix("bias.weight") {
            rng.fillNormal(s.tensor.ptr, count: s.tensor.count, mean: s.name.hasSuffix("gain.weight") ? 1 : 0, std: 0.2)
        }
        var entries = prefixed(g.stateEntries(), "g.") + prefixed(d.stateEntries(), "d.")
        // Copies: the live tensors change during the forward pass.
        entries = entries.map { SafetensorsEntry(name: $0.name, shape: $0.shape, dtype: $0.dtype, values: $0.values.buffer.map { $0 }) }
        let labels = [0, 4, 2, 1, 3, 2]
        let z = randn([6, 12], seed: 22, requiresGrad: false)
        let x = randn([6, c, side, side], seed: 23, requiresGrad: false)
        let (go, dout) = Autodiff.withoutGrad { (g(z, labels: labels), d(x, labels: labels)) }
        entries += [SafetensorsEntry(name: "z", shape: z.shape, values: z.array),
                    SafetensorsEntry(name: "x", shape: x.shape, values: x.array),
                    SafetensorsEntry(name: "labels", shape: [6], values: labels.map(Float.init)),
                    SafetensorsEntry(name: "g_out", shape: go.shape, values: go.array),
                    SafetensorsEntry(name: "d_out", shape: dout.shape, values: dout.array)]
        for s in d.stateDict() where s.name.hasSuffix("weight_u") || s.name.hasSuffix("weight_v") {
            entries.append(SafetensorsEntry(name: "after." + s.name, shape: s.tensor.shape, values: s.tensor.array))
        }
        let rv = g.block1.b1.bn.runningVar
        entries.append(SafetensorsEntry(name: "after.block1.b1.bn.running_var", shape: rv.shape, values: rv.array))
        try Safetensors.write(entries, to: dir.file("case.safetensors"))
        let out = ReferencePython.run(Self.script, [Self.benchDir, dir.file("case.safetensors"), String(c), String(side), "5",
                                                    conditional ? "1" : "0", block.rawValue, "12", "4"])
        guard let out, let worst = Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
        #expect(worst < 1e-4, "largest relative difference \(worst)")
    }
}
