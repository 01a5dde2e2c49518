import ArgumentParser
import Foundation
import Shards

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the part manifests of a --workers build into manifest.json.",
        discussion: "Checks that every part is there, all describe one build, and every shard matches its hash."
    )

    @Argument(help: "The build's output directory.") var dir: String

    func run() throws {
        let result = try ShardMerge.merge(dir: dir)
        let m = result.manifest
        print("\(ShardFiles.join(dir, ShardFiles.manifest)): \(m.numSamples) samples in \(m.shardlist.count) shards\(result.merged ? "" : " (already merged)")")
    }
}
