import Datasets
import Foundation
import Testing

@Suite(.enabled(if: fashionAvailable, "Fashion-MNIST is not installed under /usr/share/datasets/fashion-mnist"))
struct FashionMNISTTests {
    @Test func loadsTrain() throws {
        let start = Date()
        let train = try Dataset.load(spec: "fashion-mnist:train")
        print("fashion-mnist:train loaded in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
        #expect(train.count == 60_000 && train.channels == 1 && train.height == 28 && train.width == 28)
        #expect(train.pixels.count == 60_000 * 784)
        #expect(Array(train.labels.prefix(10)) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        #expect(train.classCounts == [Int](repeating: 6000, count: 10))
        #expect(train.classNames.first == "T-shirt/top" && train.classNames.last == "Ankle boot")
        #expect(train.name == "fashion-mnist:train")
    }

    @Test func loadsTest() throws {
        let test = try Dataset.load(spec: "fashion-mnist:test")
        #expect(test.count == 10_000 && test.imageSize == 784)
        #expect(Array(test.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        #expect(test.labels.allSatisfy { (0..<10).contains($0) })
        #expect(test.classCounts == [Int](repeating: 1000, count: 10))
        // Pixels are not all blank and use the full byte range.
        #expect(test.pixels.max() == 255 && test.pixels.min() == 0)
    }

    @Test func balancedPrefix() throws {
        let subset = try Dataset.load(spec: "fashion-mnist:train@1000")
        #expect(subset.count == 1000 && subset.classCounts == [Int](repeating: 100, count: 10))
        #expect(subset.name == "fashion-mnist:train@1000")
        let again = try Dataset.load(spec: "fashion-mnist:train@1000")
        #expect(again.pixels == subset.pixels && again.labels == subset.labels)

        let uneven = try Dataset.load(spec: "fashion-mnist:test@1005")
        #expect(uneven.classCounts == [101, 101, 101, 101, 101, 100, 100, 100, 100, 100])

        // Each class keeps its first samples, and the kept ones stay in file order.
        let full = try Dataset.load(spec: "fashion-mnist:test")
        let kept = full.balancedPrefixIndices(25)
        #expect(kept == kept.sorted())
        for c in 0..<10 {
            let firstOfClass = full.labels.indices.filter { full.labels[$0] == c }.prefix(c < 5 ? 3 : 2)
            #expect(kept.filter { full.labels[$0] == c } == Array(firstOfClass))
        }
        let small = full.balancedPrefix(25)
        #expect(small.image(0) == full.image(kept[0]))
        #expect(small.pixels == full.subset(indices: kept).pixels)
    }

    @Test func tooLargePrefixNamesTheSpec() {
        expectSynthError(mentioning: "fashion-mnist:test@10001", "10000") {
            _ = try Dataset.load(spec: "fashion-mnist:test@10001")
        }
        #expect((try? Dataset.load(spec: "fashion-mnist:test@10000"))?.count == 10_000)
    }

    @Test func idxSpecReadsTheSameFiles() throws {
        let viaIDX = try Dataset.load(spec: "idx:\(fashionDirectory)/t10k-images-idx3-ubyte.gz,"
            + "\(fashionDirectory)/t10k-labels-idx1-ubyte.gz")
        let test = try Dataset.load(spec: "fashion-mnist:test")
        #expect(viaIDX.pixels == test.pixels && viaIDX.labels == test.labels)
        #expect(viaIDX.classNames == (0..<10).map(String.init))
    }
}
