import Engine
import Foundation

/// The directory a build or pack writes into.
public enum OutputDirectory {
    /// Creates `dir` (and its parents) if needed and checks it can be written. A directory that
    /// exists and holds anything is refused unless `allowExisting` (resume and workers decide
    /// what of its contents they may touch).
    public static func prepare(_ dir: String, allowExisting: Bool) throws {
        if ShardFiles.exists(dir) {
            guard ShardFiles.isDirectory(dir) else { throw SynthError.file(dir, "exists and is not a directory") }
            if !allowExisting, !(try ShardFiles.list(dir)).isEmpty {
                throw SynthError.file(dir, "exists and is not empty (use --resume to continue a build there, or another --out)")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw SynthError.file(dir, "cannot create the directory: \(reason(error))")
            }
        }
        guard access(dir, W_OK | X_OK) == 0 else { throw SynthError.file(dir, "directory is not writable") }
    }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return describeErrno(Int32(underlying.code))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileWriteNoPermissionError { return "permission denied" }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileWriteFileExistsError || ns.code == 512 {
            return "a path component is not a directory"
        }
        return ns.localizedDescription.components(separatedBy: "\n")[0]
    }
}
