import Foundation
import Support

enum OutputPath {
    /// Fails before any work is done when the output's directory is missing or not writable,
    /// so a long training run never ends in an error it could have reported at once.
    static func checkWritable(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let d = dir.isEmpty ? "." : dir
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: d, isDirectory: &isDir), isDir.boolValue else {
            throw SynthError.file(path, "directory \(d) does not exist")
        }
        guard access(d, W_OK) == 0 else { throw SynthError.file(path, "directory \(d) is not writable") }
    }
}
