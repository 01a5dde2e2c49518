
/// A labelled image dataset held in memory: 8-bit pixels in NCHW order, one label per image.
public struct Dataset: Sendable {
    /// The data spec it was loaded from (e.g. "fashion-mnist:train@1000").
    public var name: String
    /// count * channels * height * width bytes, image after image, each image planar (CHW).
    public let pixels: [UInt8]
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    /// Class index of every image, each in 0..<classNames.count.
    public let labels: [Int]
    public let classNames: [String]
    /// Optional probability vector per image (count * classNames.count), as a synth build stores
    /// them: soft labels for distillation (`--soft`).
    public var softLabels: [Float]?

    public init(name: String, pixels: [UInt8], count: Int, channels: Int, height: Int, width: Int,
                labels: [Int], classNames: [String]) {
        precondition(pixels.count == count * channels * height * width,
                     "Dataset: \(pixels.count) bytes for \(count)x\(channels)x\(height)x\(width)")
        precondition(labels.count == count, "Dataset: \(labels.count) labels for \(count) images")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classNames.count },
                     "Dataset: a label outside 0..<\(classNames.count)")
        self.name = name
        self.pixels = pixels
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.labels = labels
        self.classNames = classNames
    }

    public var classCount: Int { classNames.count }
    /// Bytes (= values) in one image: channels * height * width.
    public var imageSize: Int { channels * height * width }
    /// The planar bytes of image `i`.
    public func image(_ i: Int) -> ArraySlice<UInt8> {
        pixels[i * imageSize ..< (i + 1) * imageSize]
    }

    /// Number of images of every class, indexed by class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The images at `indices`, in that order (repeats allowed); same classes and name.
    public func subset(indices: [Int]) -> Dataset {
        let size = imageSize
        var out = [UInt8](repeating: 0, count: indices.count * size)
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "subset: index \(i) outside 0..<\(count)")
                    (dst.baseAddress! + k * size).update(from: src.baseAddress! + i * size, count: size)
                }
            }
        }
        var result = Dataset(name: name, pixels: out, count: indices.count, channels: channels,
                             height: height, width: width, labels: indices.map { labels[$0] },
                             classNames: classNames)
        if let soft = softLabels {
            let k = classNames.count
            result.softLabels = indices.flatMap { soft[$0 * k ..< ($0 + 1) * k] }
        }
        return result
    }

    /// Per-channel mean and standard deviation of the pixels scaled to [0, 1]: the input
    /// normalisation a classifier trained on this data records in its checkpoint.
    public func channelStatistics() -> (mean: [Float], std: [Float]) {
        let plane = height * width
        var sum = [Double](repeating: 0, count: channels), sq = sum
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<count {
                for c in 0..<channels {
                    var s: UInt64 = 0, q: UInt64 = 0
                    let base = p.baseAddress! + (i * channels + c) * plane
                    for j in 0..<plane { let v = UInt64(base[j]); s += v; q += v * v }
                    sum[c] += Double(s); sq[c] += Double(q)
                }
            }
        }
        let n = Double(max(count * plane, 1))
        let mean = sum.map { $0 / n / 255 }
        let std = zip(sq, mean).map { q, m in max((q / n / 65025 - m * m).squareRoot(), 1e-3) }
        return (mean.map(Float.init), std.map(Float.init))
    }

    /// The indices the `@N` rule keeps, in file order.
    ///
    /// The rule: deal samples to classes round-robin in class-index order, one per class per
    /// round, until `n` are dealt; a class that has run out of samples is skipped. When every class
    /// has enough samples this gives each class floor(n/K) samples and one more to the first
    /// n mod K classes (K = classNames.count). Each class contributes its samples in file order
    /// (its first ones), and the kept samples stay in the dataset's original order.
    /// Precondition: 0 <= n <= count.
    public func balancedPrefixIndices(_ n: Int) -> [Int] {
        precondition(n >= 0 && n <= count, "balancedPrefix: \(n) of \(count) samples")
        let available = classCounts
        var quota = [Int](repeating: 0, count: classNames.count)
        var dealt = 0
        while dealt < n {
            for c in quota.indices where dealt < n && quota[c] < available[c] {
                quota[c] += 1
                dealt += 1
            }
        }
        var kept: [Int] = []
        kept.reserveCapacity(n)
        for (i, label) in labels.enumerated() where quota[label] > 0 {
            quota[label] -= 1
            kept.append(i)
        }
        return kept
    }

    /// The `@N` subset (see `balancedPrefixIndices`), named "<name>@<n>". Precondition: n <= count;
    /// `Dataset.load` checks user input before calling it.
    public func balancedPrefix(_ n: Int) -> Dataset {
        var out = subset(indices: balancedPrefixIndices(n))
        out.name = "\(name)@\(n)"
        return out
    }

    /// The `@~N` subset: every sample `balancedPrefix(n)` leaves out, in file order, named
    /// "<name>@~<n>". Precondition: n <= count.
    public func balancedRest(_ n: Int) -> Dataset {
        let kept = Set(balancedPrefixIndices(n))
        var out = subset(indices: (0..<count).filter { !kept.contains($0) })
        out.name = "\(name)@~\(n)"
        return out
    }

    /// Writes the images at `indices` as normalised Float32 NCHW (`PixelNormalization`) to `into`
    /// (indices.count * imageSize floats). `mean` and `std` hold one value per channel, or one
    /// value for all channels.
    public func batch(indices: ArraySlice<Int>, mean: [Float], std: [Float],
                      into out: UnsafeMutablePointer<Float>) {
        let normalization = PixelNormalization(mean: mean, std: std, channels: channels)
        let size = imageSize
        pixels.withUnsafeBufferPointer { src in
            var dst = out
            for i in indices {
                precondition(i >= 0 && i < count, "batch: index \(i) outside 0..<\(count)")
                normalization.apply(src.baseAddress! + i * size, images: 1, plane: height * width, into: dst)
                dst += size
            }
        }
    }

    public func batch(indices: [Int], mean: [Float], std: [Float], into out: UnsafeMutablePointer<Float>) {
        batch(indices: indices[...], mean: mean, std: std, into: out)
    }

    public func labels(for indices: ArraySlice<Int>) -> [Int] { indices.map { labels[$0] } }
    public func labels(for indices: [Int]) -> [Int] { indices.map { labels[$0] } }
}
