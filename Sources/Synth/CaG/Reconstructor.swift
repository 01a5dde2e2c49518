import Engine
import Support
import Models

/// CaG's mask-based stochastic reconstruction module g (eq. 2): a small convolutional masked
/// autoencoder, `ref-recon` as in ../shared/reference/torch_cag_loop.py. It sees the visible
/// pixels and the mask, (x * m, m), and predicts the whole image; trained (`synth train-mae`) with
/// the loss on the hidden patches only, it learns what garments look like where it cannot see.
///
/// conv3x3 s2 (w)-ReLU, conv3x3 s2 (2w)-ReLU, convT4x4 s2 (w)-ReLU, convT4x4 s2 (C)-tanh.
/// Images live in [-1, 1] on both sides (pixels * 2 - 1): the card's normalisation says so
/// (mean 0.5, std 0.5). Hyper-parameters: "width" (w, default 32), "patch" (mask patch side in
/// pixels, default 4) and "mask_percent" (share of patches hidden, default 75).
public final class Reconstructor: Layer {
    public let card: ModelCard
    let e1: Conv2d, e2: Conv2d, d1: ConvTranspose2d, d2: ConvTranspose2d

    public static let arch = "ref-recon"

    public init(card: ModelCard, seed: UInt64) throws {
        guard card.arch == Reconstructor.arch else {
            throw SynthError("unknown reconstructor architecture '\(card.arch)' (known: \(Reconstructor.arch))")
        }
        guard card.height % 4 == 0, card.width % 4 == 0, card.height >= 4, card.width >= 4 else {
            throw SynthError("ref-recon needs an input side divisible by 4, got \(card.height)x\(card.width)")
        }
        let w = card.hyperparameters["width"] ?? 32
        guard w > 0 else { throw SynthError("ref-recon: width must be positive, got \(w)") }
        let patch = card.hyperparameters["patch"] ?? 4
        guard patch > 0, card.height % patch == 0, card.width % patch == 0 else {
            throw SynthError("ref-recon: mask patch \(patch) does not tile \(card.height)x\(card.width)")
        }
        let percent = card.hyperparameters["mask_percent"] ?? 75
        guard (0..<100).contains(percent) else { throw SynthError("ref-recon: mask_percent must be in 0..<100, got \(percent)") }
        var rng = RNG(seed: seed)
        self.card = card
        e1 = Conv2d(card.channels + 1, w, kernel: 3, stride: 2, padding: 1, rng: &rng)
        e2 = Conv2d(w, 2 * w, kernel: 3, stride: 2, padding: 1, rng: &rng)
        d1 = ConvTranspose2d(2 * w, w, kernel: 4, stride: 2, padding: 1, rng: &rng)
        d2 = ConvTranspose2d(w, card.channels, kernel: 4, stride: 2, padding: 1, rng: &rng)
    }

    /// A fresh ref-recon card for images of the given shape.
    public static func card(channels: Int, height: Int, width: Int, hiddenWidth: Int = 32, patch: Int = 4,
                            maskPercent: Int = 75, info: [String: String] = [:]) -> ModelCard {
        ModelCard(kind: "reconstructor", arch: arch,
                  hyperparameters: ["width": hiddenWidth, "patch": patch, "mask_percent": maskPercent],
                  classNames: [], channels: channels, height: height, width: width,
                  mean: Array(repeating: 0.5, count: channels), std: Array(repeating: 0.5, count: channels), info: info)
    }

    public var patch: Int { card.hyperparameters["patch"] ?? 4 }
    public var maskRatio: Float { Float(card.hyperparameters["mask_percent"] ?? 75) / 100 }

    public override var children: [(String, Layer)] { [("e1", e1), ("e2", e2), ("d1", d1), ("d2", d2)] }

    /// x: [N, C, H, W] in [-1, 1]; mask: [N, 1, H, W], 1 where visible. Returns [N, C, H, W] in [-1, 1].
    public func callAsFunction(_ x: Tensor, mask: Tensor) -> Tensor {
        let h = relu(e2(relu(e1(concat([x * mask, mask], axis: 1)))))
        return tanh(d2(relu(d1(h))))
    }
}

/// Reconstructor checkpoints: safetensors with the module's state-dict names and its card.
public enum ReconstructorFile {
    public static func save(_ model: Reconstructor, to path: String, info: [String: String] = [:]) throws {
        var card = model.card
        card.info.merge(info) { _, new in new }
        try CheckpointFile.save(model, card: card, to: path)
    }

    public static func load(_ path: String) throws -> Reconstructor {
        try CheckpointFile.load(path, kind: "reconstructor", hint: "train one with synth train-mae") {
            try Reconstructor(card: $0, seed: 0)
        }.0
    }
}
