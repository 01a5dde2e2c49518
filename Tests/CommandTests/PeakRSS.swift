import Foundation
import Testing

/// Runs the `synth` binary as its own child and reports the peak resident set size that child
/// reached (wait4's ru_maxrss, which covers that process alone, unlike RUSAGE_CHILDREN, which
/// other tests' children running in parallel would share).
enum PeakRSS {
    struct Result {
        let status: Int32
        let stderr: String
        /// Peak RSS in MiB.
        let peakMiB: Double
    }

    static func run(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        guard let binary = SynthProcess.binary else {
            Issue.record("the synth binary was not found next to the test bundle", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        let errFile = NSTemporaryDirectory() + "synth-peak-rss-\(UUID().uuidString).err"
        defer { try? FileManager.default.removeItem(atPath: errFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([binary] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0
        let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        return Result(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stderr: stderr,
                      peakMiB: Double(usage.ru_maxrss) / 1024)
    }
}
