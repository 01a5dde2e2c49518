import Support
import Testing
import Training

/// The loop every trainer shares: whole shuffled epochs, the step budget, progress at epoch ends,
/// and a loss that is not finite stopping the run with a message naming the step.
@Suite struct MinibatchLoopTests {
    @Test func epochsAreShuffledPermutationsCutByTheStepBudget() throws {
        var rng = RNG(seed: 1)
        var batches: [[Int]] = [], ends: [(epoch: Int, step: Int)] = []
        try MinibatchLoop(count: 10, batchSize: 4, steps: 7, reportEvery: 100).run(rng: &rng, step: { idx, step, _ in
            #expect(step == batches.count)
            batches.append(Array(idx))
            return 1
        }, progress: { p in
            if p.endOfEpoch { ends.append((p.epoch, p.step)) }
        })
        #expect(batches.map(\.count) == [4, 4, 2, 4, 4, 2, 4])
        #expect(Set(batches[0..<3].joined()) == Set(0..<10) && Set(batches[3..<6].joined()) == Set(0..<10))
        #expect(batches[0] + batches[1] != batches[3] + batches[4], "each epoch is reshuffled")
        #expect(ends.map(\.epoch) == [1, 2, 3] && ends.map(\.step) == [3, 6, 7])
    }

    @Test func aLossThatIsNotFiniteStopsTheRun() {
        var rng = RNG(seed: 1)
        var ran = 0
        let error = #expect(throws: SynthError.self) {
            try MinibatchLoop(count: 8, batchSize: 2, steps: 10, label: "MAE training").run(rng: &rng, step: { _, step, _ in
                ran += 1
                return step == 2 ? .nan : 0.5
            }, progress: { _ in })
        }
        #expect(ran == 3)
        #expect(error?.message == "MAE training diverged at step 3: loss is nan (try a lower --lr)")
    }
}
