import Datasets
@testable import Pipeline
import Shards
import Support
import Testing

/// The sample encoder that build and pack share: every sample's members are its own, in sample
/// order, whatever the number of threads.
@Suite struct SampleEncoderTests {
    /// Seven RGB 5x4 images of noise, each keyed 100 + 3k with its own record.
    static func encode(threads: Int) -> (samples: [ShardSample], pixels: [[UInt8]], records: [SampleRecord]) {
        var rng = RNG(seed: 11)
        let pixels = (0..<7).map { _ in (0..<(3 * 4 * 5)).map { _ in UInt8(rng.int(below: 256)) } }
        let records = (0..<7).map { k in
            SampleRecord(classIndex: k % 3, className: "c\(k % 3)", source: "test", confidence: 0.5, probs: [0.5, 0.25, 0.25],
                         seed: UInt64(k), slot: k, batch: 7)
        }
        let samples = Parallel.withThreads(threads) {
            SampleEncoder(imageShape: [3, 4, 5]).encode(7) { k in
                SampleEncoder.Sample(index: 100 + 3 * k, record: records[k], pixels: pixels[k][...])
            }
        }
        return (samples, pixels, records)
    }

    @Test func membersAreEachSamplesOwnInSampleOrderOnAnyNumberOfThreads() throws {
        let one = Self.encode(threads: 1)
        for (k, s) in one.samples.enumerated() {
            #expect(s.index == 100 + 3 * k && s.classIndex == k % 3)
            #expect(s.json == one.records[k].json())
            let image = try PNG.decode(s.png)
            #expect(image.pixels == one.pixels[k] && image.width == 5 && image.height == 4 && image.channels == 3)
        }
        for threads in [2, 3] {
            let other = Self.encode(threads: threads).samples
            #expect(other.map(\.index) == one.samples.map(\.index))
            #expect(other.map(\.json) == one.samples.map(\.json))
            #expect(other.map(\.png) == one.samples.map(\.png))
        }
    }
}
