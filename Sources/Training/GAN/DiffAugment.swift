import Engine
import Support

/// Differentiable augmentation of the discriminator's inputs (Zhao et al. 2020, "Differentiable
/// Augmentation for Data-Efficient GAN Training"). Real and generated images pass through the
/// same random family of transforms, in D's step and in G's, so D judges only augmented images
/// and cannot memorise the real ones, while G's gradient flows through the transform. Since both
/// sides are augmented alike, G is not pushed to produce augmented-looking images.
///
/// Transforms, in the paper's order, each drawn per sample (images in [-1, 1]):
/// - color: brightness + U(-0.5, 0.5); saturation (x - channel mean) * U(0, 2) + mean (identity
///   on one channel, so skipped there); contrast (x - image mean) * U(0.5, 1.5) + mean.
/// - translation: a whole-pixel shift of up to 1/8 of each side, the uncovered border black (-1).
/// - cutout: a square of half the side at a random centre (clipped at the edges) set to black.
/// The paper fills with 0, the grey of [-1, 1]; black is the background of the data synth trains
/// GANs on, and either choice applies to real and fake alike.
public struct DiffAugment: Equatable, Sendable {
    public enum Transform: String, CaseIterable, Sendable { case color, translation, cutout }
    public let transforms: [Transform]

    /// The spellings `--augment` and checkpoints use.
    public static let none = DiffAugment(transforms: [])
    public static let names = "none, or a comma list of " + Transform.allCases.map(\.rawValue).joined(separator: ", ")

    init(transforms: [Transform]) { self.transforms = transforms }

    /// "none" or e.g. "translation,cutout" (applied in the canonical order, each at most once).
    public init(spec: String) throws {
        if spec == "none" { self = .none; return }
        var chosen: Set<Transform> = []
        for item in spec.split(separator: ",", omittingEmptySubsequences: false) {
            guard let t = Transform(rawValue: item.trimmingCharacters(in: .whitespaces)) else {
                throw SynthError("augmentation '\(spec)': expected \(DiffAugment.names)")
            }
            chosen.insert(t)
        }
        transforms = Transform.allCases.filter(chosen.contains)
    }

    public var spec: String { transforms.isEmpty ? "none" : transforms.map(\.rawValue).joined(separator: ",") }
    public var isNone: Bool { transforms.isEmpty }

    static let translationRatio = 0.125, cutoutRatio = 0.5
    static let black: Float = -1

    /// x [N, C, H, W] augmented, every draw from `rng`.
    public func callAsFunction(_ x: Tensor, rng: inout RNG) -> Tensor {
        var y = x
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        func perSample(_ draw: (inout RNG) -> Float) -> Tensor {
            let t = Tensor(uninitialized: [n, 1, 1, 1])
            for i in 0..<n { t.ptr[i] = draw(&rng) }
            return t
        }
        for t in transforms {
            switch t {
            case .color:
                y = y + perSample { $0.uniform() - 0.5 }
                if c > 1 {
                    let m = mean(y, axes: [1], keepDims: true)
                    y = (y - m) * perSample { 2 * $0.uniform() } + m
                }
                let m = mean(y, axes: [1, 2, 3], keepDims: true)
                y = (y - m) * perSample { $0.uniform() + 0.5 } + m
            case .translation:
                let sy = Int(Double(h) * DiffAugment.translationRatio + 0.5), sx = Int(Double(w) * DiffAugment.translationRatio + 0.5)
                let shifts = (0..<n).map { _ in (dy: rng.int(below: 2 * sy + 1) - sy, dx: rng.int(below: 2 * sx + 1) - sx) }
                y = translate2d(y, shifts: shifts, value: DiffAugment.black)
            case .cutout:
                // keep = 1 outside the square, 0 inside: y * keep + black * (1 - keep).
                let ch = Int(Double(h) * DiffAugment.cutoutRatio + 0.5), cw = Int(Double(w) * DiffAugment.cutoutRatio + 0.5)
                let keep = Tensor(filled: 1, shape: [n, 1, h, w])
                for i in 0..<n {
                    let top = rng.int(below: h + 1 - ch % 2) - ch / 2, left = rng.int(below: w + 1 - cw % 2) - cw / 2
                    for r in max(0, top)..<min(h, top + ch) {
                        for col in max(0, left)..<min(w, left + cw) { keep.ptr[i * h * w + r * w + col] = 0 }
                    }
                }
                let fill = Tensor(uninitialized: keep.shape)
                for i in 0..<keep.count { fill.ptr[i] = DiffAugment.black * (1 - keep.ptr[i]) }
                y = y * keep + fill
            }
        }
        return y
    }
}
