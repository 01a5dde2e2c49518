import Datasets
import Foundation
import Pipeline
import PipelineFixtures
import Shards
import Support
import Testing
import TestSupport

/// `build --out -` in process: the stream is the directory build's shard members, byte for byte,
/// in key order under one end-of-archive; --count is a prefix, --endless continues with the shards
/// a larger build holds; a feed's draw is the build's samples; a closed reader ends it quietly.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct StreamTests {
    /// The bytes of `stream` written to a file.
    static func streamed(_ o: BuildOptions, to path: String, count: Int? = nil, endless: Bool = false) throws -> (bytes: [UInt8], summary: StreamSummary) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        let summary = try BuildStream(options: o, toolVersion: "synth test", endless: endless).write(to: fd, label: path, count: count)
        return (try Files.read(path), summary)
    }

    /// A tar's member region: each member's 512-byte header and its data padded to 512.
    static func memberRegion(_ path: String) throws -> [UInt8] {
        let bytes = try Files.read(path)
        let length = try TarReader.members(of: path).reduce(0) { $0 + 512 + ($1.size + 511) / 512 * 512 }
        return Array(bytes[..<length])
    }

    static func members(_ dir: String) throws -> [TarMember] {
        try Manifest.read(dir + "/manifest.json").shardlist.flatMap { try TarReader.members(of: dir + "/" + $0.url) }
    }

    @Test func streamIsTheShardMembersUnderOneEnd() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier()
        let o = BuildTests.options(dir.file("d"), filter: filter)
        try BuildTests.build(o)
        let shards = try Manifest.read(dir.file("d") + "/manifest.json").shardlist
        #expect(shards.count == 4, "the last shard is partial (30 samples, 8 a shard)")
        let expected = try shards.flatMap { try Self.memberRegion(dir.file("d") + "/" + $0.url) }

        var s = o
        s.out = "-"
        s.name = nil
        let (bytes, summary) = try Self.streamed(s, to: dir.file("stream.tar"))
        let dirMembers = try Self.members(dir.file("d"))
        #expect(!summary.readerClosed && summary.shards == 4 && summary.samples == dirMembers.count / 3)
        #expect(Array(bytes.prefix(expected.count)) == expected, "the members, headers included, are the shards'")
        #expect(bytes.count - expected.count >= 1024 && bytes.dropFirst(expected.count).allSatisfy { $0 == 0 })
        #expect(bytes.count % TarWriter.recordSize == 0)
        let read = try TarReader.members(of: dir.file("stream.tar"))
        #expect(read.map(\.name) == dirMembers.map(\.name))
        #expect(try Self.streamed(s, to: dir.file("again.tar")).bytes == bytes, "same flags and seed, same bytes")

        // --count: the first N samples, a complete archive.
        let (_, counted) = try Self.streamed(s, to: dir.file("count.tar"), count: 5)
        #expect(counted.samples == 5)
        let firstFive = try TarReader.members(of: dir.file("count.tar"))
        #expect(firstFive.map(\.name) == Array(read.prefix(15).map(\.name)) && firstFive.map(\.bytes) == read.prefix(15).map(\.bytes))
    }

    /// Past the plan, shard s holds what shard s of a larger build holds (default --max-attempts,
    /// whose budget per sample does not depend on --per-class).
    @Test func endlessContinuesWithTheShardsOfALargerBuild() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var s = BuildTests.options("-", filter: nil)
        s.name = nil
        let (_, summary) = try Self.streamed(s, to: dir.file("endless.tar"), count: 46, endless: true)
        #expect(summary.samples == 46)
        let stream = try TarReader.members(of: dir.file("endless.tar"))
        var bigger = BuildTests.options(dir.file("big"), filter: nil)
        bigger.perClass = 30
        try BuildTests.build(bigger)
        let big = try Self.members(dir.file("big"))
        // Plan: 30 samples in shards 0-3 (keys 0-29); then shards 4, 5, ... (keys 32-...).
        let keys = Set(stream.map { String($0.name.prefix(9)) })
        #expect(keys.contains(ShardFiles.key(29)) && !keys.contains(ShardFiles.key(30)) && !keys.contains(ShardFiles.key(31)))
        try BuildTests.build(BuildTests.options(dir.file("plan"), filter: nil))
        let planned = try Self.members(dir.file("plan"))
        #expect(planned.count == 90)
        #expect(stream.prefix(planned.count).map(\.bytes) == planned.map(\.bytes))
        let after = Array(stream.dropFirst(planned.count))
        let inBig = big.filter { Int($0.name.prefix(9))! >= 32 }.prefix(after.count)
        #expect(after.count == 48 && after.map(\.name) == inBig.map(\.name) && after.map(\.bytes) == inBig.map(\.bytes))
    }

    @Test func feedDrawIsTheBuildsSamples() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let filter = try Fixtures.classifier()
        let o = BuildTests.options(dir.file("d"), filter: filter)
        try BuildTests.build(o)
        let built = try Dataset.load(spec: "shards:\(dir.file("d"))")
        var s = o
        s.out = "-"
        let fed = try BuildStream(options: s, toolVersion: "synth test").dataset(name: "feed")
        #expect(fed.count == built.count && fed.labels == built.labels && fed.pixels == built.pixels)
    }

    @Test func aClosedReaderEndsTheStreamQuietly() throws {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        var s = BuildTests.options("-", filter: nil)
        s.name = nil
        let summary = try BuildStream(options: s, toolVersion: "synth test").write(to: fds[1], label: "pipe")
        #expect(summary.readerClosed && summary.samples == 0)
    }
}
