import Engine
import Support
import Models

/// Seed 002's input generator: a small MLP from a one-hot class to the mean and log standard
/// deviation of a frozen unconditional generator's latent, z = mu + sigma * eps (the
/// reparameterisation trick), so classes are drawn from a GAN that never saw labels.
/// "latent-mlp": fc (K -> hidden) - ReLU, then mu (hidden -> z) and log_sigma (hidden -> z).
/// log_sigma starts at 0 (its weight and bias zeroed): the untrained generator is the prior N(0, I).
public final class InputGenerator: Layer {
    public let classNames: [String]
    public let zDim: Int, hidden: Int
    let fc: Linear, mu: Linear, logSigma: Linear

    public init(classNames: [String], zDim: Int, hidden: Int = 128, rng: inout RNG) {
        self.classNames = classNames; self.zDim = zDim; self.hidden = hidden
        fc = Linear(classNames.count, hidden, rng: &rng)
        mu = Linear(hidden, zDim, rng: &rng)
        logSigma = Linear(hidden, zDim, rng: &rng)
        logSigma.weight.ptr.update(repeating: 0, count: logSigma.weight.count)
        logSigma.bias!.ptr.update(repeating: 0, count: zDim)
    }

    public override var children: [(String, Layer)] { [("fc", fc), ("mu", mu), ("log_sigma", logSigma)] }

    public var classes: Int { classNames.count }

    /// (mu, log sigma), each [labels.count, zDim].
    public func callAsFunction(labels: [Int]) -> (mu: Tensor, logSigma: Tensor) {
        let onehot = Tensor(zeros: [labels.count, classes])
        for (r, c) in labels.enumerated() { onehot.ptr[r * classes + c] = 1 }
        let h = relu(fc(onehot))
        return (mu(h), logSigma(h))
    }

    /// Latents for `labels` given standard normal noise `eps` [labels.count, zDim].
    public func latents(labels: [Int], eps: Tensor) -> Tensor {
        let (m, ls) = self(labels: labels)
        return m + exp(ls) * eps
    }

    // MARK: Files

    public func card(imageShape: [Int], info: [String: String] = [:]) -> ModelCard {
        ModelCard(kind: "input-generator", arch: "latent-mlp", hyperparameters: ["z_dim": zDim, "hidden": hidden],
                  classNames: classNames, channels: imageShape[0], height: imageShape[1], width: imageShape[2],
                  mean: Array(repeating: 0.5, count: imageShape[0]), std: Array(repeating: 0.5, count: imageShape[0]),
                  info: info)
    }

    public func save(to path: String, imageShape: [Int], info: [String: String] = [:]) throws {
        try CheckpointFile.save(self, card: card(imageShape: imageShape, info: info), to: path)
    }

    /// An input generator and the image shape of the generator it was trained for.
    public static func load(_ path: String) throws -> (InputGenerator, imageShape: [Int]) {
        let (ig, card) = try CheckpointFile.load(path, kind: "input-generator", hint: "train one with synth condition") { (card: ModelCard) -> InputGenerator in
            guard card.arch == "latent-mlp" else { throw SynthError("input generator of unknown architecture '\(card.arch)' (expected latent-mlp)") }
            guard let z = card.hyperparameters["z_dim"], let hidden = card.hyperparameters["hidden"], z > 0, hidden > 0,
                  !card.classNames.isEmpty else {
                throw SynthError("input generator metadata lacks z_dim, hidden or class names")
            }
            var rng = RNG(seed: 0)
            return InputGenerator(classNames: card.classNames, zDim: z, hidden: hidden, rng: &rng)
        }
        ig.freeze()
        return (ig, card.inputShape)
    }
}
