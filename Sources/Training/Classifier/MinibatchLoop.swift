import Engine
import Foundation
import Support

/// The loop every trainer runs over a dataset: a fresh shuffle each epoch, one optimisation step
/// per batch of indices until `steps`, a divergence check, and a running mean loss and throughput
/// reported every `reportEvery` steps and at each epoch's end. The step closure owns the model,
/// the optimiser and whatever else a step draws from the generator (e.g. masks).
public struct MinibatchLoop {
    public let count: Int
    public let batchSize: Int
    public let steps: Int
    /// Names the run in the divergence error ("training diverged at step 12 ...").
    public var label = "training"
    public var reportEvery = 50

    public init(count: Int, batchSize: Int, steps: Int, label: String = "training", reportEvery: Int = 50) {
        self.count = count; self.batchSize = min(batchSize, count); self.steps = steps
        self.label = label; self.reportEvery = reportEvery
    }

    /// `step(indices, stepIndex, &rng)` runs one optimisation step and returns its loss;
    /// `epochStart(epoch)` is called before each epoch's shuffle (1, 2, ...).
    public func run(rng: inout RNG, step: (ArraySlice<Int>, Int, inout RNG) throws -> Float,
                    epochStart: (Int) throws -> Void = { _ in },
                    progress: (TrainingProgress) -> Void) throws {
        let start = Date()
        var reportClock = start
        var done = 0, epoch = 0, lossSum = 0.0, lossCount = 0, seen = 0
        while done < steps {
            epoch += 1
            try epochStart(epoch)
            let order = rng.permutation(count)
            var offset = 0
            while offset < count && done < steps {
                let idx = order[offset..<min(offset + batchSize, count)]
                offset += idx.count
                let value = try step(idx, done, &rng)
                guard value.isFinite else {
                    throw SynthError("\(label) diverged at step \(done + 1): loss is \(value) (try a lower --lr)")
                }
                done += 1
                lossSum += Double(value); lossCount += 1; seen += idx.count
                let endOfEpoch = offset >= count || done == steps
                if done % reportEvery == 0 || endOfEpoch {
                    let now = Date()
                    progress(TrainingProgress(epoch: epoch, step: done, totalSteps: steps, loss: lossSum / Double(lossCount),
                                              samplesPerSecond: Double(seen) / max(now.timeIntervalSince(reportClock), 1e-9),
                                              secondsElapsed: now.timeIntervalSince(start), endOfEpoch: endOfEpoch))
                    lossSum = 0; lossCount = 0; seen = 0; reportClock = now
                }
            }
        }
    }

    /// `run` with the optimisation step every trainer takes: `loss(indices, stepIndex, &rng)` builds
    /// the batch's loss, and the loop backpropagates it and steps `optimizer` (unless it is not
    /// finite, which stops the run).
    public func train(rng: inout RNG, optimizer: Optimizer, loss: (ArraySlice<Int>, Int, inout RNG) throws -> Tensor,
                      epochStart: (Int) throws -> Void = { _ in },
                      progress: (TrainingProgress) -> Void) throws {
        try run(rng: &rng, step: { idx, step, rng in
            let l = try loss(idx, step, &rng)
            let value = l.item
            guard value.isFinite else { return value }
            optimizer.zeroGrad()
            l.backward()
            optimizer.step()
            return value
        }, epochStart: epochStart, progress: progress)
    }
}
