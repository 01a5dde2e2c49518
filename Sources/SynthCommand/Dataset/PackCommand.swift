import ArgumentParser
import Datasets
import Foundation
import Pipeline
import Shards
import Support

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Write any supported dataset into synth's shards (real-data baselines, interop).",
        discussion: """
        Examples:
          synth pack --data fashion-mnist:train --out data/fmnist-train
          synth pack --data cifar10:/data/cifar-10-batches-bin:test \\
              --out data/c10-test --shard-size 5000
        """
    )

    @Option(help: "Data spec.") var data: String
    @Option(help: "Output directory (created; must be empty).") var out: String
    @Option(help: "Samples per shard. A DataLoader's workers each read whole shards: give a small dataset at least as many shards as workers.") var shardSize = 1000
    @Option(help: "Shard file prefix (default: the output directory's name).") var name: String?

    func run() throws {
        var options = BuildNameOnly(out: out)
        options.name = name
        let dataset = try Dataset.load(spec: data)
        let manifest = try ShardPack.pack(dataset, spec: data, dir: out, name: options.shardName, shardSize: shardSize,
                                          tool: "synth \(SynthVersion.string)")
        print("\(Files.join(out, ShardFiles.manifest)): \(counted(manifest.numSamples, "sample")) in \(counted(manifest.shardlist.count, "shard"))")
    }
}

/// The default shard name rule shared with build: the output directory's base name.
struct BuildNameOnly {
    var out: String
    var name: String?
    var shardName: String {
        if let name { return name }
        var dir = out
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        return (dir as NSString).lastPathComponent
    }
}
