import Datasets
import Engine
import Foundation
import Support
import TestSupport
import Testing
import Training

@Suite("DiffAugment")
struct DiffAugmentTests {
    @Test("specs: none, any subset in the canonical order, bad names refused")
    func specs() throws {
        #expect(try DiffAugment(spec: "none").isNone)
        #expect(try DiffAugment(spec: "cutout,translation").spec == "translation,cutout")
        #expect(try DiffAugment(spec: "color, cutout,color").transforms == [.color, .cutout])
        for bad in ["", "flip", "translation,", "None"] {
            #expect(throws: SynthError.self) { try DiffAugment(spec: bad) }
        }
    }

    /// A flat grey batch: translation leaves it grey inside a black border of at most 1/8 of a
    /// side per edge; cutout blacks out one square of half the side (clipped at the edges).
    @Test("translation and cutout move and hide pixels, nothing else")
    func geometry() throws {
        let n = 16, side = 16
        let x = Tensor(filled: 0.5, shape: [n, 1, side, side])
        var rng = RNG(seed: 1)
        let moved = try DiffAugment(spec: "translation")(x, rng: &rng)
        var sawShift = false
        for i in 0..<n {
            let img = Array(moved.array[(i * side * side)..<((i + 1) * side * side)])
            #expect(img.allSatisfy { $0 == 0.5 || $0 == -1 })
            let greyRows = (0..<side).filter { r in img[r * side..<(r + 1) * side].contains(0.5) }
            let greyCols = (0..<side).filter { c in (0..<side).contains { img[$0 * side + c] == 0.5 } }
            #expect(greyRows.count >= side - 2 && greyCols.count >= side - 2)  // shifts of at most 2 = 16 / 8
            #expect(img.filter { $0 == 0.5 }.count == greyRows.count * greyCols.count)  // the grey is one rectangle
            sawShift = sawShift || greyRows.count < side || greyCols.count < side
        }
        #expect(sawShift)

        let cut = try DiffAugment(spec: "cutout")(x, rng: &rng)
        for i in 0..<n {
            let img = Array(cut.array[(i * side * side)..<((i + 1) * side * side)])
            let black = img.filter { $0 == -1 }.count
            #expect(img.allSatisfy { $0 == 0.5 || $0 == -1 })
            #expect(black >= 4 * 4 && black <= 8 * 8, "sample \(i): \(black) black pixels")
        }
    }

    @Test("color keeps the spatial pattern: each image is a * x + b with a > 0")
    func color() throws {
        let x = randn([6, 1, 5, 5], seed: 3, requiresGrad: false)
        var rng = RNG(seed: 2)
        let y = try DiffAugment(spec: "color")(x, rng: &rng)
        for i in 0..<6 {
            let xs = Array(x.array[(i * 25)..<((i + 1) * 25)]), ys = Array(y.array[(i * 25)..<((i + 1) * 25)])
            let a = (ys[1] - ys[0]) / (xs[1] - xs[0]), b = ys[0] - a * xs[0]
            #expect(a > 0.4 && a < 1.6)
            for j in 0..<25 { #expect(abs(ys[j] - (a * xs[j] + b)) < 1e-4) }
        }
    }

    @Test("the augmented batch's gradient reaches the images")
    func gradients() throws {
        let x = randn([4, 2, 8, 8], seed: 4)
        let all = try DiffAugment(spec: "color,translation,cutout")
        checkGradients([x]) { t in
            var rng = RNG(seed: 5)  // the same draws on every evaluation
            return all(t[0], rng: &rng)
        }
    }

    @Test("a run records its augmentation, resumes with it, and differs from one without")
    func training() throws {
        let dir = ScratchDirectory()
        defer { dir.cleanup() }
        let data = toyDataset()
        let gan = toyGAN(data)
        let augmented = GANTrainingConfig(steps: 5, batchSize: 8, seed: 3, augment: try DiffAugment(spec: "translation,cutout"))

        let straight = try GANTrainer(gan: gan, training: augmented, data: data)
        try straight.run()
        try straight.saveCheckpoint(to: dir.file("straight.safetensors"))
        #expect(try Safetensors.read(dir.file("straight.safetensors")).metadata["augment"] == "translation,cutout")

        let first = try GANTrainer(gan: gan, training: augmented, data: data)
        try first.setTotalSteps(2)
        try first.run(checkpoint: dir.file("part.safetensors"))
        let resumed = try GANTrainer.resume(from: dir.file("part.safetensors"), data: data)
        #expect(resumed.training.augment == augmented.augment)
        try resumed.setTotalSteps(5)
        try resumed.run()
        try resumed.saveCheckpoint(to: dir.file("resumed.safetensors"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("straight.safetensors")))
                == Data(contentsOf: URL(fileURLWithPath: dir.file("resumed.safetensors"))))

        var plainConfig = augmented
        plainConfig.augment = .none
        let plain = try GANTrainer(gan: gan, training: plainConfig, data: data)
        try plain.run()
        try plain.saveCheckpoint(to: dir.file("plain.safetensors"))
        let p = try Safetensors.read(dir.file("plain.safetensors"))
        #expect(p.metadata["augment"] == nil)  // files of runs without it are as before the setting
        #expect(plain.generator.parameters.map(\.array) != straight.generator.parameters.map(\.array))
    }
}
