import Foundation
import Support
import TestSupport

/// Small files in the CIFAR binary formats (no CIFAR data exists on these machines), with images
/// a classifier learns in a few steps: class k is a coloured 8x8 square at a place and in a colour
/// of its own, on dim noise. Records are the format's: label byte(s), then 1024 red, 1024 green,
/// 1024 blue bytes.
enum TinyCIFAR {
    static let side = 32, imageBytes = 3 * 32 * 32

    /// Class k's image, its noise drawn from `rng`.
    static func image(class k: Int, rng: inout RNG) -> [UInt8] {
        let colour = [(k * 37 + 90) % 256, (k * 91 + 30) % 256, (k * 151 + 160) % 256]
        let top = (k % 4) * 8, left = (k / 4 % 4) * 8
        var bytes = [UInt8](repeating: 0, count: imageBytes)
        for c in 0..<3 {
            for y in 0..<side {
                for x in 0..<side {
                    let inside = (top..<top + 8).contains(y) && (left..<left + 8).contains(x)
                    bytes[(c * side + y) * side + x] = inside ? UInt8(colour[c]) : UInt8(rng.int(below: 60))
                }
            }
        }
        return bytes
    }

    /// `count` records cycling through `classes`; CIFAR-100 records carry (coarse, fine).
    static func records(count: Int, classes: Int, hundred: Bool, seed: UInt64) -> [UInt8] {
        var rng = RNG(seed: seed)
        var out: [UInt8] = []
        for i in 0..<count {
            let k = i % classes
            out += hundred ? [UInt8(k / 5), UInt8(k)] : [UInt8(k)]
            out += image(class: k, rng: &rng)
        }
        return out
    }

    /// data_batch_1..5.bin (`perBatch` records each), test_batch.bin and batches.meta.txt in `dir` (created).
    static func writeCIFAR10(to dir: String, perBatch: Int = 40, test: Int = 50) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for b in 1...5 {
            FileManager.default.createFile(atPath: file(dir, "data_batch_\(b).bin"),
                                           contents: Data(records(count: perBatch, classes: 10, hundred: false, seed: UInt64(b))))
        }
        FileManager.default.createFile(atPath: file(dir, "test_batch.bin"),
                                       contents: Data(records(count: test, classes: 10, hundred: false, seed: 9)))
        FileManager.default.createFile(atPath: file(dir, "batches.meta.txt"), contents: Data((cifar10Names.joined(separator: "\n") + "\n").utf8))
    }

    static let cifar10Names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    /// The fine names written to fine_label_names.txt: CIFAR-100's style (lower case, '_').
    static let cifar100Names = (0..<100).map { "fine_\($0)_name" }

    /// train.bin and test.bin with (coarse, fine) labels, and fine_label_names.txt in `dir` (created).
    static func writeCIFAR100(to dir: String, train: Int = 400, test: Int = 200) {
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: file(dir, "train.bin"), contents: Data(records(count: train, classes: 100, hundred: true, seed: 1)))
        FileManager.default.createFile(atPath: file(dir, "test.bin"), contents: Data(records(count: test, classes: 100, hundred: true, seed: 2)))
        FileManager.default.createFile(atPath: file(dir, "fine_label_names.txt"), contents: Data(cifar100Names.joined(separator: "\n").utf8))
    }
}

private func file(_ dir: String, _ name: String) -> String { dir + "/" + name }

/// A PNG's IHDR: width, height, bit depth and colour type (0 gray, 2 RGB).
func pngHeader(_ bytes: [UInt8]) -> (width: Int, height: Int, depth: Int, colourType: Int)? {
    guard bytes.count > 26, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
    func be(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (be(16), be(20), Int(bytes[24]), Int(bytes[25]))
}
