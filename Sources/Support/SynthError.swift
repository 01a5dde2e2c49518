/// A user-facing failure: bad input, bad usage, or a failed check. The command line prints
/// `message` as one line and exits with `exitCode` (2 for bad input or usage, 1 for a failed check).
public struct SynthError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let exitCode: Int32

    /// Control characters in `message` (a file name with a newline, a data spec with a carriage
    /// return) are escaped, so the message is one line whatever it quotes.
    public init(_ message: String, exitCode: Int32 = 2) {
        self.message = SynthError.oneLine(message)
        self.exitCode = exitCode
    }

    /// `text` with its control characters (newlines, NUL, DEL, ...) written as Swift escapes.
    public static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) { out += scalar.escaped(asASCII: true) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    /// "FILE: problem", the form every bad-input message takes.
    public static func file(_ path: String, _ problem: String) -> SynthError {
        SynthError("\(path): \(problem)")
    }

    public var description: String { message }
}
