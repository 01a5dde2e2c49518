/// A user-facing failure: bad input, bad usage, or a failed check. The command line prints
/// `message` as one line and exits with `exitCode` (2 for bad input or usage, 1 for a failed check).
public struct SynthError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 2) {
        self.message = message
        self.exitCode = exitCode
    }

    /// "FILE: problem", the form every bad-input message takes.
    public static func file(_ path: String, _ problem: String) -> SynthError {
        SynthError("\(path): \(problem)")
    }

    public var description: String { message }
}
