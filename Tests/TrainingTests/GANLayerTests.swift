import Engine
import Support
@testable import Synth
@testable import Training
@testable import Measure
import TestSupport
import Testing

@Suite("GAN layers")
struct GANLayerTests {
    @Test("spectral norm: W / sigma differentiates through sigma with u, v held")
    func spectralNormGradient() {
        var rng = RNG(seed: 1)
        let w = randn([5, 3, 2, 2], seed: 2)
        let sn = SpectralNormWeight(w, rng: &rng)
        for _ in 0..<3 { sn.powerIteration() }
        checkGradients([w]) { _ in sn.weight(training: false) }
    }

    @Test("spectral norm: a training pass runs one power iteration, then divides")
    func spectralNormTrainingPass() {
        var rng = RNG(seed: 3)
        let w = randn([4, 6], seed: 4)
        let sn = SpectralNormWeight(w, rng: &rng)
        let u0 = sn.u.array
        let out = sn.weight(training: true)
        #expect(sn.u.array != u0)
        // The gradient of a training pass is the same formula with the refreshed u, v.
        let again = Tensor(w.array, shape: w.shape, requiresGrad: true)
        let sn2 = SpectralNormWeight(again, rng: &rng)
        sn2.u.ptr.update(from: sn.u.ptr, count: 4); sn2.v.ptr.update(from: sn.v.ptr, count: 6)
        let ref = sn2.weight(training: false)
        for i in 0..<out.count { #expect(abs(out[i] - ref[i]) < 1e-6) }
        checkGradients([again]) { _ in sn2.weight(training: false) }
    }

    @Test("spectral norm: power iterations converge to the largest singular value")
    func spectralNormSigma() {
        var rng = RNG(seed: 5)
        let w = randn([6, 4], seed: 6)
        let sn = SpectralNormWeight(w, rng: &rng)
        for _ in 0..<200 { sn.powerIteration() }
        // sigma_max^2 = largest eigenvalue of W^T W.
        var wtw = [Double](repeating: 0, count: 16)
        for i in 0..<4 { for j in 0..<4 { for r in 0..<6 { wtw[i * 4 + j] += Double(w[r * 4 + i] * w[r * 4 + j]) } } }
        let top = FrechetDistance.symmetricEigen(wtw, n: 4).values.max()!.squareRoot()
        let normalised = sn.weight(training: false)
        // The normalised weight has spectral norm 1: |W v| for the converged v.
        var s = 0.0
        for r in 0..<6 { var d = 0.0; for c in 0..<4 { d += Double(normalised[r * 4 + c] * sn.v[c]) }; s += d * d }
        #expect(abs(s.squareRoot() - 1) < 1e-4)
        #expect(abs(Double(w[0] / normalised[0]) - top) < 1e-3 * top)
    }

    @Test("spectral-norm layers use PyTorch's state names")
    func spectralNormNames() {
        var rng = RNG(seed: 7)
        #expect(SNConv2d(2, 3, kernel: 3, rng: &rng).stateDict().map(\.name) == ["bias", "weight_orig", "weight_u", "weight_v"])
        #expect(SNLinear(2, 3, rng: &rng).stateDict().filter(\.isParameter).map(\.name) == ["bias", "weight_orig"])
        #expect(SNEmbedding(4, 3, rng: &rng).stateDict().map(\.name) == ["weight_orig", "weight_u", "weight_v"])
    }

    @Test("conditional batch norm: gradients of x, gain and bias tables (training)")
    func conditionalBatchNormGradient() {
        var rng = RNG(seed: 8)
        let cbn = GeneratorBatchNorm(3, classes: 4, rng: &rng)
        rng.fillNormal(cbn.gain!.weight.ptr, count: 12, mean: 1, std: 0.3)
        rng.fillNormal(cbn.bias!.weight.ptr, count: 12, std: 0.3)
        let x = randn([5, 3, 2, 2], seed: 9)
        let labels = [0, 2, 2, 3, 1]
        checkGradients([x, cbn.gain!.weight, cbn.bias!.weight]) { t in cbn(t[0], labels: labels) }
    }

    @Test("conditional batch norm: evaluation path and names")
    func conditionalBatchNormEval() {
        var rng = RNG(seed: 10)
        let cbn = GeneratorBatchNorm(3, classes: 4, rng: &rng)
        rng.fillNormal(cbn.gain!.weight.ptr, count: 12, mean: 1, std: 0.3)
        for _ in 0..<3 { _ = Autodiff.withoutGrad { cbn(randn([6, 3, 2, 2], seed: 11, requiresGrad: false), labels: [0, 1, 2, 3, 0, 1]) } }
        cbn.eval()
        let x = randn([4, 3, 2, 2], seed: 12)
        checkGradients([x, cbn.gain!.weight, cbn.bias!.weight]) { t in cbn(t[0], labels: [3, 1, 0, 3]) }
        #expect(cbn.stateDict().map(\.name) == ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "gain.weight", "bias.weight"])
        let plain = GeneratorBatchNorm(3, classes: nil, rng: &rng)
        #expect(plain.stateDict().map(\.name) == ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"])
    }

    static let shapes: [(Int, Int, GANConfig.Block, Bool)] = [
        (1, 28, .add, true), (1, 28, .concat, true), (3, 32, .add, true), (3, 32, .concat, true), (1, 28, .concat, false), (3, 32, .add, false),
    ]

    @Test("generator and discriminator shapes for 28x28x1 and 32x32x3", arguments: 0..<6)
    func shapes(_ which: Int) {
        let (c, side, block, conditional) = Self.shapes[which]
        let cfg = GANConfig(channels: c, height: side, width: side, classNames: (0..<10).map(String.init),
                            conditional: conditional, block: block, zDim: 16, generatorWidth: 8, discriminatorWidth: 8)
        var rng = RNG(seed: 13)
        let g = ResGANGenerator(cfg, rng: &rng), d = ResGANDiscriminator(cfg, rng: &rng)
        let z = randn([3, 16], seed: 14)
        let x = g(z, labels: [0, 5, 9])
        #expect(x.shape == [3, c, side, side])
        #expect(x.array.allSatisfy { $0 >= -1 && $0 <= 1 })
        let s = d(x, labels: [0, 5, 9])
        #expect(s.shape == [3, 1])
        // Gradients reach z through D and G.
        sum(s).backward()
        #expect(z.grad != nil && z.grad!.buffer.contains { $0 != 0 })
        #expect(g.stateDict().contains { $0.name == "block1.c_sc.weight" })
        #expect(d.stateDict().contains { $0.name == "embed.weight_orig" } == conditional)
    }

    @Test("tiny generator: gradients through both block types", arguments: [GANConfig.Block.add, .concat])
    func generatorGradient(_ block: GANConfig.Block) {
        let cfg = GANConfig(channels: 1, height: 8, width: 8, classNames: ["a", "b", "c"], block: block,
                            zDim: 4, generatorWidth: 2, discriminatorWidth: 2)
        var rng = RNG(seed: 15)
        let g = ResGANGenerator(cfg, rng: &rng)
        g.eval()  // running statistics fixed: the map from z is smooth away from ReLU kinks
        let z = randn([2, 4], seed: 16)
        checkGradients([z, g.block1.c1.weight, g.block2.cSC!.weight], rtol: 5e-2, atol: 5e-3) { t in g(t[0], labels: [1, 2]) }
    }

    @Test("tiny discriminator: gradients through both block types", arguments: [GANConfig.Block.add, .concat])
    func discriminatorGradient(_ block: GANConfig.Block) {
        let cfg = GANConfig(channels: 1, height: 8, width: 8, classNames: ["a", "b", "c"], block: block,
                            zDim: 4, generatorWidth: 2, discriminatorWidth: 2)
        var rng = RNG(seed: 17)
        let d = ResGANDiscriminator(cfg, rng: &rng)
        let x = randn([2, 1, 8, 8], seed: 18)
        // Converge u and v first: with the random initial ones, sigma = u^T W v is tiny and the
        // scores so large that Float round-off swamps the finite differences.
        for _ in 0..<30 { _ = Autodiff.withoutGrad { d(x, labels: [0, 2]) } }
        d.eval()
        checkGradients([x, d.block2.c1.sn.weightOrig, d.embed!.sn.weightOrig], rtol: 5e-2, atol: 5e-3) { t in d(t[0], labels: [0, 2]) }
    }
}
