import ArgumentParser
import Foundation
import Pipeline
import Shards
import Support

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the part manifests of a --workers build into manifest.json.",
        discussion: """
        Checks that every part is there, all describe one build, and every shard matches its hash; then writes manifest.json, which makes the directory a complete dataset. A merge of short parts is a short build: manifest.json is written and the command exits 1 unless --allow-short.

        Example (a build split over three workers, in any order, anywhere):
          synth build --source gan --per-class 50 --out data/gan --workers 3 --worker 0
          (the same with --worker 1 and --worker 2)
          synth merge data/gan
        """
    )

    @Argument(help: "The build's output directory.") var dir: String
    @Flag(help: "Accept parts that kept fewer samples than planned (exit 0; it still says which classes fell short).") var allowShort = false

    func run() throws {
        let result = try ShardMerge.merge(dir: dir)
        let m = result.manifest
        let path = Files.join(dir, ShardFiles.manifest)
        print("\(path): \(counted(m.numSamples, "sample")) in \(counted(m.shardlist.count, "shard"))\(result.merged ? "" : " (already merged)")")
        // The merge of short parts is as short as the single-process build would have been.
        try ShortBuild.check(m, path: path, allowShort: allowShort)
    }
}
