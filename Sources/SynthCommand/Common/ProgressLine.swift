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

    /// A rate that stays meaningful for slow work: "12 samples/s", "2.4 samples/s", or below one
    /// a second "3.7 s/sample" (a CaG sample takes seconds: "0/s" said nothing); "--" before the
    /// first item.
    static func rate(_ count: Int, _ noun: String, in seconds: Double) -> String {
        guard count > 0, seconds > 0 else { return "-- \(noun)s/s" }
        let perSecond = Double(count) / seconds
        if perSecond >= 10 { return String(format: "%.0f %@s/s", perSecond, noun) }
        if perSecond >= 1 { return String(format: "%.1f %@s/s", perSecond, noun) }
        return String(format: "%.1f s/%@", 1 / perSecond, noun)
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}
