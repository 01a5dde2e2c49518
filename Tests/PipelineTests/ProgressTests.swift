import Foundation
import Pipeline
import PipelineFixtures
import Testing
import TestSupport

/// What a build's progress reports between shards: a slow source (CaG: seconds per sample)
/// completes a shard only every few minutes, so a rate measured on complete shards read "0/s".
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"))
struct ProgressTests {
    @Test func progressCountsSamplesKeptBeforeTheirShardIsComplete() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        var o = BuildOptions(source: "replay:fashion-mnist:test@100", perClass: 4, out: dir.file("ds"))
        o.classes = "0,1,7"
        o.shardSize = 12
        o.noFilter = true
        var seen: [BuildProgress] = []
        _ = try BuildRunner(options: o, toolVersion: "synth test").run { seen.append($0) }
        // One shard of three units (one per class): kept grows unit by unit while no shard is written.
        #expect(seen.map(\.kept) == [4, 8, 12])
        #expect(seen.map(\.samplesWritten) == [0, 0, 0])
    }
}
