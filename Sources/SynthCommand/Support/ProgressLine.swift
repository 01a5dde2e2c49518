import Foundation

/// Progress for long work: a self-overwriting line on a terminal; in a pipe, nothing unless
/// `verbose`, then one plain line per `emit(final: true)` (e.g. per epoch) and otherwise at most
/// one every `pipeInterval` seconds, so logs stay readable and a long build still shows life.
final class ProgressLine {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let verbose: Bool
    private var lastWidth = 0
    private var lastPipeLine = Date.distantPast
    static let pipeInterval: TimeInterval = 30

    init(verbose: Bool = false) { self.verbose = verbose }

    func emit(_ text: String, final: Bool = false) {
        if isTerminal {
            let pad = max(0, lastWidth - text.count)
            FileHandle.standardError.write(Data(("\r" + text + String(repeating: " ", count: pad) + (final ? "\n" : "")).utf8))
            lastWidth = final ? 0 : text.count
        } else if verbose && !text.isEmpty && (final || Date().timeIntervalSince(lastPipeLine) >= ProgressLine.pipeInterval) {
            FileHandle.standardError.write(Data((text + "\n").utf8))
            lastPipeLine = Date()
        }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
