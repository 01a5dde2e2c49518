import Datasets
import Shards
import Support

/// A shard's samples made into their members (PNG, per-sample json; ShardWriter spells the cls
/// from the class index), for build and pack alike. Samples are encoded in parallel through
/// `Parallel`, so SYNTH_THREADS bounds the threads, with one PNG encoder per thread; each sample's
/// bytes are its own, and the result is in sample order whatever the number of threads. The tar
/// is written sequentially afterwards.
struct SampleEncoder {
    /// One sample to encode: its key, its json record and its image (planar 8-bit pixels).
    struct Sample {
        var index: Int
        var record: SampleRecord
        var pixels: ArraySlice<UInt8>
    }

    /// [channels, height, width] of every image.
    let imageShape: [Int]

    /// Members of samples 0..<count; `sample(k)` describes sample k and may run on any thread.
    func encode(_ count: Int, sample: (Int) -> Sample) -> [ShardSample] {
        let (channels, height, width) = (imageShape[0], imageShape[1], imageShape[2])
        let encoders = (0..<Parallel.workers(count)).map { _ in PNGEncoder() }
        var encoded = [ShardSample?](repeating: nil, count: count)
        encoded.withUnsafeMutableBufferPointer { slots in
            let base = slots.baseAddress!
            Parallel.forEach(count) { k, worker in
                let s = sample(k)
                let png = s.pixels.withUnsafeBufferPointer {
                    encoders[worker].encode(pixels: $0, width: width, height: height, channels: channels)
                }
                base[k] = ShardSample(index: s.index, classIndex: s.record.classIndex, json: s.record.json(), png: png)
            }
        }
        return encoded.map { $0! }
    }
}
