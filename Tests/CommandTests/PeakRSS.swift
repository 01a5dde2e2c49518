import Foundation
import Testing

/// Runs the `synth` binary and reports the peak resident set size it reached, as GNU time's %M
/// (wait4's ru_maxrss of synth alone). time stands between on purpose: Linux records the old
/// address space's high-water mark at exec, so a child spawned straight from this large test
/// process would report this process's RSS, not its own.
enum PeakRSS {
    struct Result {
        let status: Int32
        let stderr: String
        /// Peak RSS in MiB.
        let peakMiB: Double
    }

    /// The peak-RSS limit a test asserts for a plain-build bound of `miB`: 512 MiB more when these
    /// tests (and so the `synth` beside them) are built with AddressSanitizer (`scripts/sanitize
    /// address`), whose allocator keeps freed memory in a quarantine (256 MiB by default) and maps
    /// shadow memory, so a reader that streams 800 MB through fixed buffers peaks at ~620 MiB there
    /// against ~160 MiB in the plain build. Still far below what a bomb's header claims
    /// (gigabytes), so the bounds keep their meaning.
    static func limit(_ miB: Double) -> Double { miB + sanitizerAllowanceMiB }
    private static let sanitizerAllowanceMiB: Double = dlsym(nil, "__asan_init") != nil ? 512 : 0

    static func run(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        guard let binary = SynthProcess.binary else {
            Issue.record("the synth binary was not found next to the test bundle", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        let time = "/usr/bin/time"
        guard FileManager.default.isExecutableFile(atPath: time) else {
            Issue.record("GNU time (Debian package time) is needed to measure peak RSS", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        let errFile = NSTemporaryDirectory() + "synth-peak-rss-\(UUID().uuidString).err"
        let rssFile = errFile + ".rss"
        defer { try? FileManager.default.removeItem(atPath: errFile); try? FileManager.default.removeItem(atPath: rssFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([time, "-f", "%M", "-o", rssFile, binary] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, time, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        // time adds "Command exited with non-zero status N" to its -o file before the figure.
        let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        let kb = (try? String(contentsOfFile: rssFile, encoding: .utf8))?.split(whereSeparator: \.isNewline).last.flatMap { Double($0) } ?? .infinity
        return Result(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stderr: stderr, peakMiB: kb / 1024)
    }
}
