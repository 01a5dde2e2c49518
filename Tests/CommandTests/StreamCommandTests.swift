import Datasets
import Foundation
import PipelineFixtures
import Shards
import Support
import Testing
import TestSupport

/// `synth build --out -` from the outside: the stream on stdout is the directory build's members,
/// nothing lands on disk, bad usage is one line and exit 2, and a reader that closes the pipe
/// early ends synth within a second with exit 0. Also `replay-eval --feed` end to end.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"),
       .enabled(if: SourceCommandTests.exist(SourceCommandTests.shippedGANs + ["\(SourceCommandTests.shippedModels)/filter-resnet-s.safetensors"]),
                "needs the GANs and the filter scripts/make-gan-models and scripts/make-models ship"))
struct StreamCommandTests {
    static let env = ["SYNTH_MODELS_DIR": SourceCommandTests.shippedModels]
    static let gan = ["build", "--source", "gan", "--classes", "0,1", "--per-class", "4", "--shard-size", "3", "--seed", "3"]

    /// synth run in `cwd` (stdoutBytes holds the stream).
    static func stream(_ args: [String], cwd: String) throws -> SynthProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(SynthProcess.binary))
        process.arguments = args
        process.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        return try SynthProcess.collect(process)
    }

    @Test func streamIsTheDirectoryBuildsMembersAndWritesNothing() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let cwd = dir.file("cwd")
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let r = try Self.stream(Self.gan + ["--out", "-"], cwd: cwd)
        #expect(r.status == 0 && !r.signalled, "\(r.stderr)")
        #expect(try Files.list(cwd).isEmpty, "nothing on disk")
        #expect(r.stderr.contains("-: 8 of 8 planned samples streamed from 3 shards"), "\(r.stderr)")
        let stdout = r.stdoutBytes
        try Files.writeAtomically(stdout, to: dir.file("stream.tar"))

        let built = try SynthProcess.run(Self.gan + ["--out", dir.file("d")], environment: Self.env)
        #expect(built.status == 0, "\(built.stderr)")
        var expected: [UInt8] = [], members: [TarMember] = []
        for entry in try Manifest.read(dir.file("d") + "/manifest.json").shardlist {
            let path = dir.file("d") + "/" + entry.url
            let m = try TarReader.members(of: path)
            members += m
            expected += try Files.read(path).prefix(m.reduce(0) { $0 + 512 + ($1.size + 511) / 512 * 512 })
        }
        #expect(members.count == 24)
        #expect(Array(stdout.prefix(expected.count)) == expected, "members and their ustar headers are the shards'")
        #expect(stdout.dropFirst(expected.count).allSatisfy { $0 == 0 } && stdout.count % 10240 == 0)
        let read = try TarReader.members(of: dir.file("stream.tar"))
        #expect(read.map(\.name) == members.map(\.name) && read.map(\.bytes) == members.map(\.bytes))
    }

    @Test func badStreamUsageExitsTwoWithOneLine() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let base = ["build", "--source", "replay:fashion-mnist:test", "--no-filter", "--classes", "0,1", "--per-class", "2"]
        for (extra, needle) in [
            (["--out", "-", "--workers", "2", "--worker", "0"], "--workers"),
            (["--out", "-", "--resume"], "--resume"),
            (["--out", "-", "--name", "x"], "--name"),
            (["--out", "-", "--allow-short"], "--allow-short"),
            (["--out", "-", "--count", "0"], "--count 0"),
            (["--out", "-", "--count", "5"], "more than the plan's 4 samples"),
            (["--out", dir.file("d"), "--count", "2"], "--count needs --out -"),
            (["--out", dir.file("d"), "--endless"], "--endless needs --out -"),
        ] {
            let r = try SynthProcess.run(base + extra)
            expectFailure(r, mentioning: needle)
            #expect(r.stdout.isEmpty, "\(extra): \(r.stdout)")
        }
        #expect(!dir.exists("d"))
    }

    /// An endless gan stream (shards of 1000, seconds each here) read for a few samples, then the
    /// pipe closed: synth ends within a second, exit 0, leaving nothing behind.
    @Test func closingTheReaderEndsSynthQuickly() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(SynthProcess.binary))
        process.arguments = ["build", "--source", "gan", "--classes", "0,1", "--per-class", "1000", "--endless", "--out", "-"]
        process.environment = ProcessInfo.processInfo.environment.merging(Self.env) { _, new in new }
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = drain(err)
        var got = 0
        while got < 10 * 3 * 1024 {
            let chunk = out.fileHandleForReading.readData(ofLength: 65536)
            if chunk.isEmpty { break }
            got += chunk.count
        }
        #expect(got >= 10 * 3 * 1024, "the stream ended early")
        try out.fileHandleForReading.close()
        let closed = Date()
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(closed)
        errData.wait()
        let stderr = String(decoding: errData.data, as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(process.terminationStatus): \(stderr)")
        #expect(seconds < 1, "synth took \(seconds) s to end after the reader closed")
        #expect(stderr.contains("the reader closed the stream") && !stderr.contains("synth: "), "\(stderr)")
        let left = try Files.list(dir.path)
        #expect(left.isEmpty, "stray files: \(left)")

        // The same through a shell pipe into head -c.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/bash")
        shell.arguments = ["-c", "\"$0\" \"$@\" | head -c 30000 >/dev/null; exit ${PIPESTATUS[0]}", try #require(SynthProcess.binary)] + process.arguments!
        shell.environment = process.environment
        shell.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let r = try SynthProcess.collect(shell)
        #expect(!r.signalled && r.status == 0, "\(r.status): \(r.stderr)")
        #expect(try Files.list(dir.path).isEmpty)
    }

    /// replay-eval --feed: the feed's fixed first draw and its live epochs beside a real buffer of
    /// the same size, in the one table.
    @Test func replayEvalComparesAFixedDrawWithTheLiveFeed() throws {
        let args = ["replay-eval", "--feed", "replay:fashion-mnist:test", "--feed-per-class", "4", "--data", "fashion-mnist:train@500",
                    "--test", "fashion-mnist:test@200", "--steps-a", "3", "--steps-b", "40", "--batch", "16"]
        let r = try SynthProcess.run(args + ["--json"], environment: Self.env)
        #expect(r.status == 0, "\(r.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let rows = result["rows"] as! [[String: Any]]
        #expect(rows.map { $0["kind"] as! String } == ["none", "real", "synthetic", "live"])
        let name = "replay:fashion-mnist:test feed"
        #expect(rows.map { $0["name"] as! String } == ["no replay", "real buffer of 20", "\(name), fixed", "\(name), live"])
        #expect(Set(rows.dropFirst().map { $0["buffer"] as! Int }) == [20])
        let recovered = try #require(result["recovered"] as? [String: Any])
        #expect(recovered["\(name), fixed"] != nil && recovered["\(name), live"] != nil)
        let table = try SynthProcess.run(args, environment: Self.env)
        #expect(table.status == 0 && table.stdout.contains("| \(name), live | 20 |") && table.stdout.contains("recovered by \(name), live:"), "\(table.stdout)")
        expectFailure(try SynthProcess.run(args + ["--feed-per-class", "0"], environment: Self.env), mentioning: "--feed-per-class 0")
        expectFailure(try SynthProcess.run(["replay-eval", "--feed", "nosuch", "--steps-a", "1"], environment: Self.env), mentioning: "nosuch")
    }
}
