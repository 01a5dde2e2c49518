import Engine

/// Where candidate images come from: CaG, a conditional GAN (or several), or a frozen
/// unconditional GAN steered by an input generator. The build pipeline asks a source for
/// batches of one class, filters them, and writes what survives into shards.
///
/// Determinism contract: `generate(label:count:seed:)` depends only on its arguments and the
/// source's models, so any worker that asks for the same (label, count, seed) gets the same
/// images. Candidates of one call may be generated jointly (CaG's diversity loss couples them).
public protocol SampleSource: AnyObject {
    /// "cag", "gan", "gan-latent": recorded per sample and in the manifest.
    var sourceName: String { get }
    var classNames: [String] { get }
    /// [channels, height, width] of every image.
    var imageShape: [Int] { get }
    /// Every model file the source reads; their sha256 go into the manifest.
    var modelFiles: [String] { get }
    /// What a model file is to the source ("classifier", "reconstructor", "statistics",
    /// "generator", "input-generator"), for the manifest and for the rule that a filter must not
    /// be the classifier a source inverts.
    func role(ofModel path: String) -> String
    /// Candidates worth producing in one call (the source's efficient batch).
    var preferredBatch: Int { get }
    /// Source settings worth recording in the manifest (losses, steps, resolutions...).
    var settings: [String: String] { get }

    /// `count` images of class `label`, values in [0, 1], shape [count, channels, height, width].
    func generate(label: Int, count: Int, seed: UInt64) throws -> Tensor
    /// The classes a build draws (`--classes`), told before the first `generate`: a source that
    /// blends classes into a sample keeps its blends inside them, so a build of some classes
    /// (a replay of old classes) holds nothing of the others.
    func drawOnly(classes: [Int])
}

extension SampleSource {
    public func role(ofModel path: String) -> String { "source" }
    public func drawOnly(classes: [Int]) {}
}
