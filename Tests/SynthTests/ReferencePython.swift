import Foundation
import Testing

/// The Python interpreter tests compare against (scripts/test sets SYNTH_PYTHON to the project's
/// venv with torch and safetensors). nil when unset or not executable: such tests are skipped.
enum ReferencePython {
    static let path: String? = {
        guard let p = ProcessInfo.processInfo.environment["SYNTH_PYTHON"], !p.isEmpty,
              FileManager.default.isExecutableFile(atPath: p) else { return nil }
        return p
    }()

    static var available: Bool { path != nil }

    /// Runs `script` with `arguments` (sys.argv[1...]); returns stdout, or records an issue with
    /// stderr and returns nil when Python fails.
    @discardableResult
    static func run(_ script: String, _ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) -> String? {
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
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Issue.record("python failed (\(process.terminationStatus)): \(String(decoding: stderr, as: UTF8.self))", sourceLocation: sourceLocation)
            return nil
        }
        return String(decoding: stdout, as: UTF8.self)
    }
}

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
struct ScratchDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "synth-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
