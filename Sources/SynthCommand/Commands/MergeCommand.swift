import ArgumentParser
import Foundation
import Shards

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the part manifests of a --workers build into manifest.json.",
        discussion: """
        Checks that every part is there, all describe one build, and every shard matches its hash; then writes manifest.json, which makes the directory a complete dataset.

        Example (a build split over three workers, in any order, anywhere):
          synth build --source gan --per-class 50 --out data/gan --workers 3 --worker 0
          (the same with --worker 1 and --worker 2)
          synth merge data/gan
        """
    )

    @Argument(help: "The build's output directory.") var dir: String

    func run() throws {
        let result = try ShardMerge.merge(dir: dir)
        let m = result.manifest
        print("\(ShardFiles.join(dir, ShardFiles.manifest)): \(m.numSamples) samples in \(m.shardlist.count) shards\(result.merged ? "" : " (already merged)")")
    }
}
