/// The tool version recorded in manifests and checkpoints.
enum SynthVersion {
    static let string = "0.1.0"
}
