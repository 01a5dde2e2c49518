import Foundation
import PipelineFixtures
import Testing
import TestSupport

/// Runs the `synth` binary SwiftPM built beside this test bundle.
enum SynthProcess {
    static let binary: String? = {
        var candidates: [String] = []
        if let exe = Bundle.main.executablePath { candidates.append((exe as NSString).deletingLastPathComponent) }
        candidates.append((Bundle.main.bundlePath as NSString).deletingLastPathComponent)
        candidates.append(Bundle.main.bundlePath)
        for dir in candidates {
            let path = (dir as NSString).appendingPathComponent("synth")
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    struct Result {
        let status: Int32
        /// True when the process was killed by a signal (status is then the signal number).
        let signalled: Bool
        let stdout: String
        let stderr: String
        /// stdout as written (a tar stream is not text).
        var stdoutBytes: [UInt8] = []
    }

    /// `synth args...` with extra environment; `limitFileKB` runs it under `ulimit -f` (via bash).
    @discardableResult
    static func run(_ args: [String], environment extra: [String: String] = [:], limitFileKB: Int? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        guard let binary else {
            Issue.record("the synth binary was not found next to the test bundle (\(Bundle.main.bundlePath))", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        let process = Process()
        if let kb = limitFileKB {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "ulimit -f \(kb); exec \"$0\" \"$@\"", binary] + args
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = args
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SYNTH_TEST_KILL_AT")
        env.removeValue(forKey: "JOB_COMPLETION_INDEX")
        env.removeValue(forKey: "SLURM_ARRAY_TASK_ID")
        env.merge(extra) { _, new in new }
        process.environment = env
        return try collect(process)
    }

    /// Runs a configured process to its end and returns its status and both outputs.
    static func collect(_ process: Process) throws -> Result {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let errData = drain(err)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errData.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                      stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData.data, as: UTF8.self),
                      stdoutBytes: [UInt8](outData))
    }
}


/// The one-line error contract: status 2 (or `status`), one line on stderr starting "synth: " that mentions `needle`.
func expectFailure(_ r: SynthProcess.Result, status: Int32 = 2, mentioning needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!r.signalled && r.status == status, "exit \(r.status) (signalled \(r.signalled)), stderr: \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    #expect(lines.count == 1 && lines[0].hasPrefix("synth: "), "not one line: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.contains(needle), "\(r.stderr) does not mention \(needle)", sourceLocation: sourceLocation)
}

/// Reads a pipe to its end on another thread (so the child never blocks on a full pipe).
final class PipeDrain: @unchecked Sendable {
    private(set) var data = Data()
    private let group = DispatchGroup()
    init(_ pipe: Pipe) {
        group.enter()
        DispatchQueue.global().async { self.data = pipe.fileHandleForReading.readDataToEndOfFile(); self.group.leave() }
    }
    func wait() { group.wait() }
}

func drain(_ pipe: Pipe) -> PipeDrain { PipeDrain(pipe) }

extension SynthProcess {
    /// Asserts the bad-input contract: exit code 2 and exactly one stderr line containing `needles`.
    static func expectBadInput(_ r: Result, mentioning needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for n in needles { expectFailure(r, mentioning: n, sourceLocation: sourceLocation) }
    }
}

extension SynthProcess.Result {
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
}

extension ScratchDirectory {
    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
}

/// Small IDX files (raw, uncompressed) for fast command tests.
enum TinyIDX {
    static func write(images count: Int, side: Int = 28, classes: Int = 10, to dir: ScratchDirectory,
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
