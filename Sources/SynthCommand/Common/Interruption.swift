import Dispatch
import Foundation

/// Ctrl-C (SIGINT) or SIGTERM during a long, resumable command: one line on stderr with the
/// exact command that finishes the work, then exit 128 + signal (130 for SIGINT), as a shell
/// reports a process the signal ended. Nothing is cleaned up on the way out: everything
/// unfinished already lies under hidden names (shards are renamed into place only when complete,
/// the manifest is written last), which is what --resume picks up.
enum Interruption {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// On SIGINT or SIGTERM, prints `synth: interrupted: ...` with `resumeCommand` and exits.
    static func onSignal(resumeCommand: String) {
        let line = Data(((isatty(STDERR_FILENO) == 1 ? "\n" : "") +
                         "synth: interrupted: the complete shards are kept; to finish, run: \(resumeCommand)\n").utf8)
        for sig in [SIGINT, SIGTERM] {
            // The default action would end the process before the handler runs.
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                line.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
                _exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The command line this process was started with, plus `flag` unless it is already there,
    /// quoted for a POSIX shell so it can be pasted as is.
    static func currentCommand(adding flag: String) -> String {
        var args = CommandLine.arguments
        if !args.dropFirst().contains(flag) { args.append(flag) }
        return args.map(shellQuoted).joined(separator: " ")
    }

    static func shellQuoted(_ arg: String) -> String {
        let plain = !arg.isEmpty && arg.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_./=:,@+%".unicodeScalars.contains($0)
        }
        return plain ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
