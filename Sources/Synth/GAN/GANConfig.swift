import Models
import Support

/// The shape of a residual GAN (generator "resgan-g", discriminator "resgan-d"): image, classes,
/// conditioning, residual block type and widths. Everything needed to rebuild either network.
public struct GANConfig: Equatable, Sendable {
    /// How a residual block joins its branch F(x) and its shortcut x (seed 003 §III-B):
    /// `add`: y = F(x) + s(x); `concat`: y = conv1x1(concat(F(x), s(x))).
    public enum Block: String, Sendable, CaseIterable { case add, concat }

    public var channels: Int
    public var height: Int
    public var width: Int
    public var classNames: [String]
    /// Class-conditional batch norm in G and a projection term in D; otherwise plain BN and no
    /// projection (an unconditional GAN, for the latent-conditioned source).
    public var conditional: Bool
    public var block: Block
    public var zDim: Int
    /// Base width of the generator: 4w channels at the base resolution, 2w after the first
    /// up-sampling block, w after the second.
    public var generatorWidth: Int
    /// Base width of the discriminator: w, 2w, 2w channels in its three blocks.
    public var discriminatorWidth: Int

    public init(channels: Int, height: Int, width: Int, classNames: [String], conditional: Bool = true,
                block: Block = .concat, zDim: Int = 128, generatorWidth: Int = 24, discriminatorWidth: Int = 24) {
        self.channels = channels; self.height = height; self.width = width
        self.classNames = classNames; self.conditional = conditional; self.block = block
        self.zDim = zDim; self.generatorWidth = generatorWidth; self.discriminatorWidth = discriminatorWidth
    }

    public var classes: Int { classNames.count }
    public var imageShape: [Int] { [channels, height, width] }
    /// The generator starts at a quarter of the image side and doubles it twice.
    public var baseHeight: Int { height / 4 }
    public var baseWidth: Int { width / 4 }

    /// User-facing checks (image sizes and widths come from data and flags).
    public func validate() throws {
        guard channels == 1 || channels == 3 else { throw SynthError("a GAN needs 1 or 3 image channels, got \(channels)") }
        guard height % 4 == 0, width % 4 == 0, height >= 8, width >= 8 else {
            throw SynthError("a GAN needs image sides divisible by 4 and at least 8 (e.g. 28 or 32), got \(height)x\(width)")
        }
        guard !classNames.isEmpty else { throw SynthError("a GAN needs at least one class") }
        guard zDim >= 1, generatorWidth >= 1, discriminatorWidth >= 1 else {
            throw SynthError("z dimension and widths must be positive")
        }
    }

    // MARK: Model cards

    /// The checkpoint card of a generator with this configuration. The generator's output, in
    /// [-1, 1], is pixels in [0, 1] normalised with mean 0.5 and std 0.5.
    public func generatorCard(info: [String: String] = [:]) -> ModelCard {
        var info = info
        info["block"] = block.rawValue
        info["conditional"] = conditional ? "true" : "false"
        return ModelCard(kind: "generator", arch: "resgan-g",
                         hyperparameters: ["z_dim": zDim, "width": generatorWidth, "d_width": discriminatorWidth,
                                           "conditional": conditional ? 1 : 0, "concat": block == .concat ? 1 : 0],
                         classNames: classNames, channels: channels, height: height, width: width,
                         mean: Array(repeating: 0.5, count: channels), std: Array(repeating: 0.5, count: channels),
                         info: info)
    }

    /// Reads a configuration back from a generator card; `file` names the checkpoint in errors.
    public init(card: ModelCard, file: String) throws {
        guard card.arch == "resgan-g" else {
            throw SynthError.file(file, "architecture '\(card.arch)' is not a GAN generator (expected resgan-g)")
        }
        let h = card.hyperparameters
        guard let z = h["z_dim"], let w = h["width"], let c = h["conditional"], let k = h["concat"] else {
            throw SynthError.file(file, "generator metadata lacks z_dim, width, conditional or concat")
        }
        self.init(channels: card.channels, height: card.height, width: card.width, classNames: card.classNames,
                  conditional: c != 0, block: k != 0 ? .concat : .add, zDim: z, generatorWidth: w,
                  discriminatorWidth: h["d_width"] ?? w)
        do { try validate() } catch let e as SynthError { throw SynthError.file(file, e.message) }
    }
}
