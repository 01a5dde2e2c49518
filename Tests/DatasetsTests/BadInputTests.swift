@testable import Datasets
import Foundation
import Testing

/// Every kind of bad input ends in a one-line SynthError that names the offending file.
@Suite struct BadInputTests {
    let labels10 = idxBytes(magic: 0x801, dims: [10], payload: (0..<10).map { UInt8($0 % 3) })
    let images10 = idxBytes(magic: 0x803, dims: [10, 4, 4], payload: [UInt8](repeating: 7, count: 160))

    @Test func rawIDXPairLoads() throws {
        let dir = try TemporaryDirectory()
        let images = try dir.write("images", images10), labels = try dir.write("labels", labels10)
        let data = try Dataset.load(spec: "idx:\(images),\(labels)")
        #expect(data.count == 10 && data.height == 4 && data.width == 4 && data.channels == 1)
        #expect(data.classNames == ["0", "1", "2"] && data.labels.prefix(4) == [0, 1, 2, 0])
    }

    @Test func missingFile() throws {
        let dir = try TemporaryDirectory()
        let labels = try dir.write("labels", labels10)
        let missing = dir.file("nope.gz")
        expectSynthError(mentioning: missing, "no such file") { _ = try Dataset.load(spec: "idx:\(missing),\(labels)") }
        expectSynthError(mentioning: dir.path, "directory") { _ = try Dataset.load(spec: "idx:\(dir.path),\(labels)") }
    }

    @Test func wrongMagic() throws {
        let dir = try TemporaryDirectory()
        var flipped = images10
        flipped[3] = 0x01
        let images = try dir.write("images", flipped), labels = try dir.write("labels", labels10)
        expectSynthError(mentioning: images, "magic") { _ = try Dataset.load(spec: "idx:\(images),\(labels)") }
        // Images and labels swapped.
        let goodImages = try dir.write("good-images", images10)
        expectSynthError(mentioning: labels, "magic") { _ = try Dataset.load(spec: "idx:\(labels),\(goodImages)") }
        let tiny = try dir.write("tiny", [0, 0])
        expectSynthError(mentioning: tiny, "short") { _ = try Dataset.load(spec: "idx:\(tiny),\(labels)") }
    }

    @Test func countMismatch() throws {
        let dir = try TemporaryDirectory()
        let images = try dir.write("images", images10)
        let labels = try dir.write("labels9", idxBytes(magic: 0x801, dims: [9], payload: [UInt8](repeating: 1, count: 9)))
        expectSynthError(mentioning: labels, "10 images") { _ = try Dataset.load(spec: "idx:\(images),\(labels)") }
    }

    @Test func truncatedPayload() throws {
        let dir = try TemporaryDirectory()
        let images = try dir.write("images", Array(images10.dropLast(5)))
        let labels = try dir.write("labels", labels10)
        expectSynthError(mentioning: images, "truncated") { _ = try Dataset.load(spec: "idx:\(images),\(labels)") }
        let header = try dir.write("header", Array(images10.prefix(9)))
        expectSynthError(mentioning: header, "truncated") { _ = try Dataset.load(spec: "idx:\(header),\(labels)") }
        // A corrupt header claiming an absurd size must not overflow.
        let huge = try dir.write("huge", idxBytes(magic: 0x803, dims: [0xffff_ffff, 0xffff_ffff, 0xffff_ffff], payload: [1]))
        expectSynthError(mentioning: huge, "truncated") { _ = try Dataset.load(spec: "idx:\(huge),\(labels)") }
    }

    @Test(.enabled(if: fashionAvailable, "Fashion-MNIST is not installed"))
    func truncatedAndCorruptGzip() throws {
        let dir = try TemporaryDirectory()
        let original = try Data(contentsOf: URL(fileURLWithPath: fashionDirectory + "/t10k-labels-idx1-ubyte.gz"))
        let images = fashionDirectory + "/t10k-images-idx3-ubyte.gz"
        let truncated = try dir.write("labels-truncated.gz", Array(original.prefix(original.count / 2)))
        expectSynthError(mentioning: truncated, "gzip") { _ = try Dataset.load(spec: "idx:\(images),\(truncated)") }
        var garbled = Array(original)
        for i in 20..<200 { garbled[i] ^= 0x5a }
        let corrupt = try dir.write("labels-corrupt.gz", garbled)
        expectSynthError(mentioning: corrupt, "gzip") { _ = try Dataset.load(spec: "idx:\(images),\(corrupt)") }
        let headerOnly = try dir.write("labels-header.gz", Array(original.prefix(5)))
        expectSynthError(mentioning: headerOnly, "gzip") { _ = try Dataset.load(spec: "idx:\(images),\(headerOnly)") }
        var badTrailer = Array(original)
        badTrailer[badTrailer.count - 6] ^= 0xff  // the CRC-32 of the trailer
        let badCRC = try dir.write("labels-crc.gz", badTrailer)
        expectSynthError(mentioning: badCRC, "gzip") { _ = try Dataset.load(spec: "idx:\(images),\(badCRC)") }
        // Test images with the train labels: 10000 images, 60000 labels.
        let trainLabels = fashionDirectory + "/train-labels-idx1-ubyte.gz"
        expectSynthError(mentioning: trainLabels, "10000 images") { _ = try Dataset.load(spec: "idx:\(images),\(trainLabels)") }
    }

    @Test func fashionMNISTMissingUnderDataDir() throws {
        let dir = try TemporaryDirectory()
        let environment = ["SYNTH_DATA_DIR": dir.path]
        expectSynthError(mentioning: dir.file("t10k-images-idx3-ubyte.gz"), "SYNTH_DATA_DIR") {
            _ = try FashionMNIST.load(.test, name: "fashion-mnist:test", environment: environment)
        }
        // A `fashion-mnist` folder inside SYNTH_DATA_DIR is preferred; raw (not gzip) files work.
        try dir.write("fashion-mnist/t10k-images-idx3-ubyte", idxBytes(magic: 0x803, dims: [2, 2, 2], payload: [1, 2, 3, 4, 5, 6, 7, 8]))
        try dir.write("fashion-mnist/t10k-labels-idx1-ubyte", idxBytes(magic: 0x801, dims: [2], payload: [9, 3]))
        let data = try FashionMNIST.load(.test, name: "fashion-mnist:test", environment: environment)
        #expect(data.count == 2 && data.labels == [9, 3] && data.classNames.count == 10)
        try dir.write("fashion-mnist/t10k-labels-idx1-ubyte", idxBytes(magic: 0x801, dims: [2], payload: [10, 3]))
        expectSynthError(mentioning: dir.file("fashion-mnist/t10k-labels-idx1-ubyte"), "outside 0..<10") {
            _ = try FashionMNIST.load(.test, name: "fashion-mnist:test", environment: environment)
        }
    }
}
