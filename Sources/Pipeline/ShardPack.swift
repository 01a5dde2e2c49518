import Datasets
import Foundation
import Shards
import Support

/// `synth pack`: any dataset into synth's shards, in the dataset's order (key = sample index), so
/// real data (baselines, interop) and synthetic data share one format. The per-sample json holds
/// class, class_name and source ("pack:SPEC"): no confidence or probs, as no teacher judged it.
/// Samples are encoded by the build's `SampleEncoder`; the tar is written sequentially.
public enum ShardPack {
    public static func pack(_ data: Dataset, spec: String, dir: String, name: String, shardSize: Int, tool: String,
                            progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> Manifest {
        guard shardSize > 0 else { throw SynthError("--shard-size must be at least 1") }
        guard data.channels == 1 || data.channels == 3 else {
            throw SynthError("\(spec): \(data.channels) channels; shards hold gray or RGB PNG")
        }
        try ShardFiles.checkName(name)
        try OutputDirectory.prepare(dir, allowExisting: false)
        let source = "pack:\(spec)"
        let build = BuildRecord(command: "pack", tool: tool, source: source, classes: Array(data.classNames.indices),
                                plannedSamples: data.count, shardSize: shardSize, data: spec)
        let imageShape = [data.channels, data.height, data.width]
        let encoder = SampleEncoder(imageShape: imageShape)
        var entries: [ShardEntry] = []
        for s in 0..<build.shardCount {
            let lo = s * shardSize, hi = min(lo + shardSize, data.count)
            let samples = encoder.encode(hi - lo) { k in
                let i = lo + k, label = data.labels[i]
                return SampleEncoder.Sample(index: i, record: SampleRecord(classIndex: label, className: data.classNames[label], source: source),
                                            pixels: data.pixels[(i * data.imageSize)..<((i + 1) * data.imageSize)])
            }
            entries.append(try ShardWriter.write(dir: dir, name: name, index: s, firstIndex: lo, classCount: data.classCount,
                                                 samples: samples))
            progress?(hi, data.count)
        }
        let manifest = Manifest.assemble(name: name, classes: data.classNames, imageShape: imageShape,
                                         build: build, entries: entries, stats: [], histogramBins: 0)
        try Files.writeAtomically(manifest.encoded(), to: Files.join(dir, ShardFiles.manifest))
        return manifest
    }
}
