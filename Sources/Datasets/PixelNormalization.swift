/// 8-bit pixels to a classifier's input: (p / 255 - mean[c]) / std[c], in that float order, so a
/// model sees the same bits wherever its pixels come from (training batches, the build's filter,
/// audit features). The 256 results per channel are computed once, so normalising is a lookup.
public struct PixelNormalization {
    public let channels: Int
    private let table: [Float]

    /// `mean` and `std` hold one value per channel, or one value for all channels.
    public init(mean: [Float], std: [Float], channels: Int) {
        precondition((mean.count == 1 || mean.count == channels) && (std.count == 1 || std.count == channels),
                     "PixelNormalization: mean/std need 1 or \(channels) values, got \(mean.count)/\(std.count)")
        self.channels = channels
        var table = [Float](repeating: 0, count: 256 * channels)
        for c in 0..<channels {
            let m = mean.count == 1 ? mean[0] : mean[c], s = std.count == 1 ? std[0] : std[c]
            for p in 0..<256 { table[c * 256 + p] = (Float(p) / 255 - m) / s }
        }
        self.table = table
    }

    /// Normalises `count` planar images (channels planes of `plane` pixels each) from `src` to `dst`.
    public func apply(_ src: UnsafePointer<UInt8>, images count: Int, plane: Int, into dst: UnsafeMutablePointer<Float>) {
        table.withUnsafeBufferPointer { lut in
            var s = src, d = dst
            for _ in 0..<count {
                for c in 0..<channels {
                    let t = lut.baseAddress! + c * 256
                    for j in 0..<plane { d[j] = t[Int(s[j])] }
                    s += plane
                    d += plane
                }
            }
        }
    }
}
