import Foundation
import Support
import Testing

/// A fresh directory under the system temporary folder, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("synth-datasets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func makeDirectory(_ name: String) throws {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: true)
    }
}

let fashionDirectory = "/usr/share/datasets/fashion-mnist"
let fashionAvailable = FileManager.default.fileExists(atPath: fashionDirectory + "/t10k-labels-idx1-ubyte.gz")

/// Runs `body`, which must throw a SynthError that mentions `needle` (usually the bad file's path)
/// in a one-line message; returns the message.
@discardableResult
func expectSynthError(mentioning needle: String, _ extra: String? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) -> String? {
    do {
        try body()
        Issue.record("expected a SynthError mentioning \(needle), got success", sourceLocation: sourceLocation)
    } catch let error as SynthError {
        #expect(error.message.contains(needle), "\"\(error.message)\" does not name \(needle)",
                sourceLocation: sourceLocation)
        if let extra {
            #expect(error.message.contains(extra), "\"\(error.message)\" does not say \(extra)",
                    sourceLocation: sourceLocation)
        }
        #expect(!error.message.contains("\n"), "message is not one line", sourceLocation: sourceLocation)
        #expect(error.exitCode == 2, sourceLocation: sourceLocation)
        return error.message
    } catch {
        Issue.record("expected a SynthError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// An uncompressed IDX file: magic, big-endian dimensions, payload.
func idxBytes(magic: UInt32, dims: [Int], payload: [UInt8]) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    return be(magic) + dims.flatMap { be(UInt32($0)) } + payload
}

/// The Python with PIL the tests may use (SYNTH_PYTHON), or nil with the reason it is unavailable.
func pythonWithPIL() -> (path: String?, reason: String) {
    guard let python = ProcessInfo.processInfo.environment["SYNTH_PYTHON"], !python.isEmpty else {
        return (nil, "SYNTH_PYTHON is not set")
    }
    guard FileManager.default.isExecutableFile(atPath: python) else {
        return (nil, "SYNTH_PYTHON=\(python) is not an executable")
    }
    return (python, "")
}

/// Runs `python -c script args...`; returns the exit status and standard error.
func runPython(_ python: String, _ script: String, _ args: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", script] + args
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let data = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
