import Foundation
import Testing

/// Runs the built `synth` binary as a user would, capturing exit code, stdout and stderr.
enum SynthProcess {
    /// The binary sits next to the test bundle in the build directory (or SYNTH_BINARY).
    static let binary: String = {
        if let p = ProcessInfo.processInfo.environment["SYNTH_BINARY"], !p.isEmpty { return p }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("synth").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return "synth"
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], cwd: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        p.environment = env
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Asserts the bad-input contract: exit code 2 and exactly one stderr line containing `needles`.
    static func expectBadInput(_ r: Result, mentioning needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderrLines.count == 1, "stderr should be one line: \(r.stderr)", sourceLocation: sourceLocation)
        for n in needles {
            #expect(r.stderr.contains(n), "stderr should mention \(n): \(r.stderr)", sourceLocation: sourceLocation)
        }
    }
}

final class DataBox: @unchecked Sendable { var data = Data() }

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
struct Scratch {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "synth-cmd-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Small IDX files (raw, uncompressed) for fast command tests.
enum TinyIDX {
    static func write(images count: Int, side: Int = 28, classes: Int = 10, to dir: Scratch,
                      imageName: String = "img.idx", labelName: String = "lab.idx", labelCount: Int? = nil) {
        var img: [UInt8] = [0, 0, 8, 3] + be(count) + be(side) + be(side)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<count {
            let label = i % classes
            for p in 0..<(side * side) { img.append(UInt8((p / side == label * 2) ? 255 : Int.random(in: 0..<40, using: &rng))) }
        }
        let n = labelCount ?? count
        let lab: [UInt8] = [0, 0, 8, 1] + be(n) + (0..<n).map { UInt8($0 % classes) }
        FileManager.default.createFile(atPath: dir.file(imageName), contents: Data(img))
        FileManager.default.createFile(atPath: dir.file(labelName), contents: Data(lab))
    }

    static func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
}
