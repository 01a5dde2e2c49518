import Support

/// How `--source gan` draws its latents and classes (`--source-option KEY=VALUE`):
///
/// - `latent_scale=S`: z ~ N(0, S^2 I) instead of N(0, I). Above 1 the generator is asked for
///   images further from the modes it learned (the opposite of BigGAN's truncation).
/// - `class_mix=P`: with probability P a sample blends its class with a second class drawn
///   uniformly from the build's other classes (`mixClasses`), in every conditional batch norm of the generator (`ClassMix`),
///   its own class weighing w ~ U[0.5, 1). The sample keeps its own class as its label; the
///   label models (`--label-model`) say in its `probs` what it looks like. Between-class images
///   are what a student trained on soft labels learns the class boundaries from.
///
/// This struct's defaults (1 and 0) draw exactly what the source drew before the options existed,
/// and record nothing; `synth build` asks for class_mix=0.5 unless told otherwise
/// (`BuildDefaults.sourceSettings`).
public struct GANSampling: Sendable, Equatable {
    public var latentScale: Float = 1
    public var classMix: Float = 0
    /// The classes a blend may draw its second class from, ascending; nil: all of the generator's.
    /// `synth build --classes` sets it (`SampleSource.drawOnly`). Over all classes the draw is
    /// the same as with nil.
    public var mixClasses: [Int]?

    public init(latentScale: Float = 1, classMix: Float = 0) {
        self.latentScale = latentScale; self.classMix = classMix
    }

    public static let keys = ["class_mix", "latent_scale"]

    /// Reads the `--source-option` pairs; an unknown key or a value out of range is refused.
    public init(options: [String: String]) throws {
        for key in options.keys.sorted() where !GANSampling.keys.contains(key) {
            throw SynthError("unknown gan setting '\(key)' (known: \(GANSampling.keys.joined(separator: ", ")))")
        }
        if let text = options["latent_scale"] {
            guard let v = Float(text), v.isFinite, v > 0, v <= 10 else {
                throw SynthError("gan setting latent_scale=\(text): expected a number in (0, 10]")
            }
            latentScale = v
        }
        if let text = options["class_mix"] {
            guard let v = Float(text), v.isFinite, v >= 0, v <= 1 else {
                throw SynthError("gan setting class_mix=\(text): expected a probability in [0, 1]")
            }
            classMix = v
        }
    }

    /// The settings that differ from the defaults, as the manifest records them.
    public var settings: [String: String] {
        var s: [String: String] = [:]
        if latentScale != 1 { s["latent_scale"] = String(latentScale) }
        if classMix != 0 { s["class_mix"] = String(classMix) }
        if classMix != 0, let pool = mixClasses { s["class_mix_classes"] = pool.map(String.init).joined(separator: ",") }
        return s
    }

    /// The classes a sample of class `label` may blend with, out of `classCount`.
    func blendPartners(of label: Int, classCount: Int) -> [Int] {
        (mixClasses ?? Array(0..<classCount)).filter { $0 != label }
    }
}

/// Per sample, a second class and the weight of the sample's own class in the generator's
/// conditional batch norms: gain = w * gain[label] + (1 - w) * gain[other], bias alike.
/// A sample with w = 1 (or other = label) is its own class exactly.
public struct ClassMix: Sendable {
    public var other: [Int]
    public var weight: [Float]

    public init(other: [Int], weight: [Float]) {
        precondition(other.count == weight.count, "ClassMix: \(other.count) classes for \(weight.count) weights")
        self.other = other; self.weight = weight
    }
}
