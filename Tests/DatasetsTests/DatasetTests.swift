import Datasets
import Testing

@Suite struct DatasetTests {
    /// Two-channel 1x2 images; image i holds bytes i*4 ..< i*4+4.
    func tiny(labels: [Int], classes: Int) -> Dataset {
        Dataset(name: "tiny", pixels: (0..<labels.count * 4).map { UInt8($0) }, count: labels.count,
                channels: 2, height: 1, width: 2, labels: labels,
                classNames: (0..<classes).map { "c\($0)" })
    }

    @Test func balancedPrefixDealsRoundRobin() {
        let data = tiny(labels: [1, 0, 0, 2, 0, 1, 0, 0, 2, 2], classes: 4)
        // Available per class: [5, 2, 3, 0]. Rounds deal to classes 0,1,2 (class 3 is empty).
        #expect(data.balancedPrefixIndices(3) == [0, 1, 3])
        #expect(data.balancedPrefixIndices(4) == [0, 1, 2, 3])
        // Classes 1 runs out after 2 and class 2 after 3; the rest go to class 0.
        #expect(data.balancedPrefix(9).classCounts == [4, 2, 3, 0])
        #expect(data.balancedPrefixIndices(10) == Array(0..<10))
        #expect(data.balancedPrefixIndices(0) == [])
        #expect(data.balancedPrefix(3).name == "tiny@3")
    }

    /// `@~N` is the complement of `@N`, in file order.
    @Test func balancedRestIsTheComplement() {
        let data = tiny(labels: [1, 0, 0, 2, 0, 1, 0, 0, 2, 2], classes: 4)
        let rest = data.balancedRest(4)
        #expect(rest.count == 6 && rest.name == "tiny@~4")
        #expect(rest.labels == [0, 1, 0, 0, 2, 2])
        #expect(rest.pixels == data.subset(indices: [4, 5, 6, 7, 8, 9]).pixels)
    }

    @Test func subsetCopiesImagesAndLabels() {
        let data = tiny(labels: [0, 1, 2], classes: 3)
        let s = data.subset(indices: [2, 0, 2])
        #expect(s.count == 3 && s.labels == [2, 0, 2])
        #expect(s.pixels == [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])
        #expect(data.labels(for: [2, 1]) == [2, 1])
        #expect(data.labels(for: [0, 1, 2][1...]) == [1, 2])
    }

    @Test func batchNormalisesPerChannel() {
        let data = tiny(labels: [0, 1, 0], classes: 2)
        var out = [Float](repeating: .nan, count: 2 * 4)
        data.batch(indices: [2, 0][...], mean: [0.5, 0.25], std: [0.5, 2], into: &out)
        // Image 2 = bytes 8, 9 (channel 0) and 10, 11 (channel 1); image 0 = 0, 1 | 2, 3.
        let expected: [Float] = [8, 9, 10, 11, 0, 1, 2, 3].enumerated().map { k, p in
            let c = (k / 2) % 2
            return (Float(p) / 255 - [0.5, 0.25][c]) / [0.5, 2][c]
        }
        #expect(out == expected)
        var single = [Float](repeating: .nan, count: 4)
        data.batch(indices: [1], mean: [0], std: [1], into: &single)
        #expect(single == [4, 5, 6, 7].map { Float($0) / 255 })
    }

    @Test func pixelNormalizationIsTheFormulaForEveryByte() {
        let mean: [Float] = [0.286, 0.5], std: [Float] = [0.353, 0.25]
        let pixels = (0..<512).map { UInt8($0 % 256) }
        var out = [Float](repeating: .nan, count: 512)
        // Two images of two 128-pixel planes: channel 0 sees bytes 0-127 and 0-127, channel 1 128-255.
        PixelNormalization(mean: mean, std: std, channels: 2).apply(pixels, images: 2, plane: 128, into: &out)
        for (i, p) in pixels.enumerated() {
            let c = (i / 128) % 2
            #expect(out[i].bitPattern == ((Float(p) / 255 - mean[c]) / std[c]).bitPattern, "byte \(i)")
        }
    }
}
