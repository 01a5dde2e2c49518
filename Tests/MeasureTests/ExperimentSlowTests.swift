import Datasets
import Foundation
import Measure
import Testing

/// The trainer's experiments at full size (minutes of training each): SYNTH_SLOW_TESTS=1, in a
/// release build (`SYNTH_SLOW_TESTS=1 swift test -c release --filter ExperimentSlowTests`).
@Suite struct ExperimentSlowTests {
    static let slow = ProcessInfo.processInfo.environment["SYNTH_SLOW_TESTS"] == "1"

    /// The design's figure: ref-cnn on 1,000 real images for 4,690 steps reaches about 84%.
    @Test(.enabled(if: slow, "slow test: set SYNTH_SLOW_TESTS=1 (and use -c release)"))
    func casOfOneThousandRealImages() throws {
        let train = try Dataset.load(spec: "fashion-mnist:train@1000"), test = try Dataset.load(spec: "fashion-mnist:test")
        let (r, _) = try CAS.run(train: train, test: test, settings: CASSettings())
        #expect(r.steps == 4690 && r.accuracy >= 0.80, "CAS \(r.accuracy)")
    }

    /// Replay of other real images of the old classes (the test set's, standing in for a perfect
    /// generator) recovers most of what a real buffer of task A recovers.
    @Test(.enabled(if: slow, "slow test: set SYNTH_SLOW_TESTS=1 (and use -c release)"))
    func replayOfOtherRealImagesRecoversTheOldClasses() throws {
        let data = try Dataset.load(spec: "fashion-mnist:train"), test = try Dataset.load(spec: "fashion-mnist:test")
        let others = test.subset(indices: (0..<test.count).filter { test.labels[$0] < 5 })
        let r = try ReplayExperiment.run(data: data, test: test, settings: ReplaySettings(), synthetic: [("test-images", others)])
        let none = r.rows.first { $0.kind == "none" }!.oldAccuracy
        #expect(none < 0.5, "task B alone should forget task A: \(none)")
        #expect((r.recovered["test-images"] ?? 0) >= 0.5, "\(r.rows)")
    }
}
