import Datasets
import Foundation
import Testing

/// Timings for the notes, not checks: run with SYNTH_MEASURE=1, ideally `swift test -c release`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SYNTH_MEASURE"] == "1" && fashionAvailable,
                "set SYNTH_MEASURE=1 to print loading and PNG timings"))
struct Measurements {
    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    @Test func loadingAndPNG() throws {
        var train: Dataset!
        let load = try seconds { train = try Dataset.load(spec: "fashion-mnist:train") }
        print(String(format: "load fashion-mnist:train: %.3f s", load))
        var batch = [Float](repeating: 0, count: 128 * 784)
        let batches = seconds {
            for b in 0..<(60_000 / 128) { train.batch(indices: Array(b * 128 ..< b * 128 + 128), mean: [0.286], std: [0.353], into: &batch) }
        }
        print(String(format: "batch(): one epoch of 128-batches: %.3f s", batches))

        for pooled in [false, true] {
            var bytes = 0
            var encoded: [[UInt8]] = []
            encoded.reserveCapacity(train.count)
            let encoder = PNGEncoder()
            let encode = train.pixels.withUnsafeBufferPointer { all in
                seconds {
                    for i in 0..<train.count {
                        let image = UnsafeBufferPointer(rebasing: all[i * 784 ..< (i + 1) * 784])
                        let png = pooled ? PNG.encode(pixels: image, width: 28, height: 28, channels: 1)
                            : encoder.encode(pixels: image, width: 28, height: 28, channels: 1)
                        bytes += png.count
                        encoded.append(png)
                    }
                }
            }
            let decode = try seconds { for png in encoded { _ = try PNG.decode(png) } }
            print(String(format: "PNG %@: encode 60k in %.3f s (%.1f us/image), %.1f MB (%.0f B/image); decode %.3f s",
                         pooled ? "PNG.encode (pool)" : "one PNGEncoder",
                         encode, encode / 60_000 * 1e6, Double(bytes) / 1e6, Double(bytes) / 60_000, decode))
        }
    }
}
