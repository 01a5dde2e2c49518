import Foundation
import Testing

/// The Python interpreter tests compare against (scripts/test sets SYNTH_PYTHON to the project's
/// venv with torch, safetensors, webdataset, wids, Hugging Face datasets and jsonschema). nil when unset
/// or not executable: such tests are skipped.
public enum ReferencePython {
    public static let path: String? = {
        guard let p = ProcessInfo.processInfo.environment["SYNTH_PYTHON"], !p.isEmpty,
              FileManager.default.isExecutableFile(atPath: p) else { return nil }
        return p
    }()

    public static var available: Bool { path != nil }

    /// Runs `python -c script args...` (sys.argv[1...]); returns stdout, or records an issue with
    /// stderr and returns nil when Python fails. stderr is drained while stdout is read, so a
    /// chatty script cannot fill a pipe and hang.
    @discardableResult
    public static func run(_ script: String, _ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        guard let path else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            Issue.record("cannot run \(path): \(error)", sourceLocation: sourceLocation)
            return nil
        }
        var stderr = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stderr = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Issue.record("python failed (\(process.terminationStatus)): \(String(decoding: stderr, as: UTF8.self))", sourceLocation: sourceLocation)
            return nil
        }
        return String(decoding: stdout, as: UTF8.self)
    }
}

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
public struct ScratchDirectory {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "synth-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { path + "/" + name }
    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
