import Datasets
import Filter
import Testing

/// The pieces of the distance to the closest record: the share closer to training, ties half;
/// the seeded subsample; sizing two sets alike and refusing mismatched ones.
@Suite struct HoldoutDCRTests {
    @Test func closerShareCountsTiesHalf() {
        #expect(HoldoutDCR.closerShare([0, 0.1, 0.2, 0.5], [0.1, 0.1, 0.1, 0.6]) == 0.625)
    }

    @Test func subsampleIsSeededSortedAndDistinct() {
        let a = HoldoutDCR.subsample(100, to: 30, seed: 7)
        #expect(a == HoldoutDCR.subsample(100, to: 30, seed: 7))
        #expect(a != HoldoutDCR.subsample(100, to: 30, seed: 8))
        #expect(a.count == 30 && Set(a).count == 30 && a == a.sorted() && a.allSatisfy { (0..<100).contains($0) })
        #expect(HoldoutDCR.subsample(5, to: 5, seed: 1) == [0, 1, 2, 3, 4])
    }

    func data(_ count: Int, side: Int = 2, classes: [String] = ["a", "b"]) -> Dataset {
        Dataset(name: "d\(count)", pixels: (0..<count * side * side).map { UInt8($0 % 251) }, count: count, channels: 1,
                height: side, width: side, labels: (0..<count).map { $0 % classes.count }, classNames: classes)
    }

    @Test func sizedBringsTheLargerDown() throws {
        let (t, h) = try HoldoutDCR.sized(training: data(40), holdout: data(10), seed: 1)
        #expect(t.count == 10 && h.count == 10 && t.name == "d40")
        #expect(throws: (any Error).self) { try HoldoutDCR.sized(training: data(4), holdout: data(4, side: 3), seed: 1) }
        #expect(throws: (any Error).self) { try HoldoutDCR.sized(training: data(4), holdout: data(4, classes: ["x", "y"]), seed: 1) }
    }

    /// Queries that are the training images: every one closer to training, at distance 0.
    @Test func copiesOfTheTrainingSetAreCloserToIt() throws {
        let train = data(20), hold = Dataset(name: "h", pixels: (0..<80).map { UInt8(255 - $0) }, count: 20, channels: 1, height: 2,
                                             width: 2, labels: (0..<20).map { $0 % 2 }, classNames: ["a", "b"])
        let r = try HoldoutDCR.run(train, training: train, holdout: hold, trainingSpec: "t", trainingAvailable: 20, holdoutSpec: "h",
                                   holdoutAvailable: 20, seed: 1, featureModel: nil)
        #expect(r.pixel.closerToTraining == 1 && r.pixel.training.max == 0 && r.features == nil && r.perClass.count == 2)
        #expect(r.pixel.trainingHistogram.reduce(0, +) == 20 && r.pixel.holdoutHistogram.reduce(0, +) == 20)
    }
}
