import Datasets
import Dispatch
import Foundation
import Shards
import Support

/// `synth pack`: any dataset into synth's shards, in the dataset's order (key = sample index), so
/// real data (baselines, interop) and synthetic data share one format. The per-sample json holds
/// class, class_name and source ("pack:SPEC"): no confidence or probs, as no teacher judged it.
/// PNG encoding runs on every core (one encoder per lane); the tar is written sequentially.
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
        let shards = build.shardCount
        let lanes = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let encoders = (0..<lanes).map { _ in PNGEncoder() }
        var entries: [ShardEntry] = []
        for s in 0..<shards {
            let lo = s * shardSize, hi = min(lo + shardSize, data.count)
            var samples = [ShardSample?](repeating: nil, count: hi - lo)
            samples.withUnsafeMutableBufferPointer { slots in
                let base = slots.baseAddress!, n = hi - lo
                let chunk = (n + lanes - 1) / lanes
                DispatchQueue.concurrentPerform(iterations: lanes) { lane in
                    let encoder = encoders[lane]
                    var k = lane * chunk
                    let end = min(n, k + chunk)
                    data.pixels.withUnsafeBufferPointer { pixels in
                        while k < end {
                            let i = lo + k, label = data.labels[i]
                            let image = UnsafeBufferPointer(rebasing: pixels[(i * data.imageSize)..<((i + 1) * data.imageSize)])
                            let png = encoder.encode(pixels: image, width: data.width, height: data.height, channels: data.channels)
                            let json = SampleRecord(classIndex: label, className: data.classNames[label], source: source).json()
                            base[k] = ShardSample(index: i, classIndex: label, json: json, png: png)
                            k += 1
                        }
                    }
                }
            }
            entries.append(try ShardWriter.write(dir: dir, name: name, index: s, firstIndex: lo, classCount: data.classCount,
                                                 samples: samples.map { $0! }))
            progress?(hi, data.count)
        }
        let manifest = Manifest.assemble(name: name, classes: data.classNames, imageShape: [data.channels, data.height, data.width],
                                         build: build, entries: entries, stats: [], histogramBins: 0)
        try Files.writeAtomically(manifest.encoded(), to: Files.join(dir, ShardFiles.manifest))
        return manifest
    }
}
