import Support
import Foundation

/// The directory a build or pack writes into.
public enum OutputDirectory {
    /// Creates `dir` (and its parents) if needed and checks it can be written. A directory that
    /// exists and holds anything is refused unless `allowExisting` (resume and workers decide
    /// what of its contents they may touch).
    public static func prepare(_ dir: String, allowExisting: Bool) throws {
        if Files.exists(dir) {
            guard Files.isDirectory(dir) else { throw SynthError.file(dir, "exists and is not a directory") }
            if !allowExisting, !(try Files.list(dir)).isEmpty {
                throw SynthError.file(dir, "exists and is not empty (use --resume to continue a build there, or another --out)")
            }
        } else {
            try makeDirectories(dir)
        }
        guard access(dir, W_OK | X_OK) == 0 else { throw SynthError.file(dir, "directory is not writable") }
    }

    /// `mkdir -p`, one component at a time, so a failure names the component and errno's reason
    /// (Foundation's createDirectory said "The operation could not be completed" for /proc/x).
    static func makeDirectories(_ dir: String) throws {
        var prefix = dir.hasPrefix("/") ? "/" : ""
        for component in dir.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            if mkdir(prefix, 0o755) == 0 { continue }
            let error = errno
            if error == EEXIST && Files.isDirectory(prefix) { continue }
            let reason = error == EEXIST ? "it exists and is not a directory" : Files.describe(errno: error)
            throw SynthError.file(dir, "cannot create the directory\(prefix == dir ? "" : " " + prefix): \(reason)")
        }
    }
}
