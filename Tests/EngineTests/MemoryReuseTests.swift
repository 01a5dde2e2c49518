import Testing
import TestSupport
@testable import Engine
@testable import Models

/// Memory is reused across identical steps: after a warm-up, training steps take every buffer
/// from the pool and the pool stops creating memory. Runs alone (the pool is process-wide and
/// other tests allocate concurrently), hence `.serialized` on a suite of one and a private
/// comparison of the pool's creation counter around this test's own steps only.
@Suite(.serialized) struct MemoryReuseTests {
    /// Bytes the pool creates while `work` runs. Other tests may allocate concurrently; work of
    /// ours is steady when, repeated, it never needs more than the warm-up left behind, so the
    /// smallest of five tries rules out a neighbour.
    static func poolGrowth(_ work: () -> Void) -> Int {
        var grew = Int.max
        for _ in 0..<5 {
            let before = BufferPool.shared.bytesCreated
            work()
            grew = min(grew, BufferPool.shared.bytesCreated - before)
            if grew == 0 { break }
        }
        return grew
    }

    @Test func trainingStepsStopAllocating() throws {
        let card = ModelCard(kind: "classifier", arch: "resnet-s", hyperparameters: ["width": 8], classNames: (0..<4).map(String.init),
                             channels: 1, height: 28, width: 28, mean: [0], std: [1])
        let model = try Architectures.classifier(card, seed: 1)
        let opt = Adam(model.parameters, lr: 1e-3)
        let x = randn([8, 1, 28, 28], seed: 2, requiresGrad: false)
        func step() {
            let loss = crossEntropy(model(x), labels: [0, 1, 2, 3, 0, 1, 2, 3])
            opt.zeroGrad(); loss.backward(); opt.step()
        }
        for _ in 0..<3 { step() }
        let grew = Self.poolGrowth { for _ in 0..<20 { step() } }
        #expect(grew == 0, "the pool created \(grew) bytes over 20 steady steps")
    }

    /// A build filters candidate batches of every size up to its batch size; after one pass over
    /// the sizes, further passes take all their memory from the pool (size classes share blocks).
    @Test func varyingBatchSizesStopAllocating() throws {
        let card = ModelCard(kind: "classifier", arch: "resnet-s", hyperparameters: ["width": 4], classNames: (0..<4).map(String.init),
                             channels: 1, height: 28, width: 28, mean: [0], std: [1])
        let model = try Architectures.classifier(card, seed: 1)
        model.eval()
        let inputs = (1...24).map { randn([$0, 1, 28, 28], seed: UInt64($0), requiresGrad: false) }
        func pass() { for x in inputs { _ = Autodiff.withoutGrad { softmax(model(x)) } } }
        pass()
        let grew = Self.poolGrowth { for _ in 0..<3 { pass() } }
        #expect(grew == 0, "the pool created \(grew) bytes over passes of batch sizes it had seen")
    }

    @Test func sizeClassesWasteAtMostAQuarter() {
        var last = 0
        for n in 1...100_000 {
            let c = BufferPool.sizeClass(n)
            #expect(c >= n && c >= last)
            if n > 64 { #expect(Double(c) <= 1.25 * Double(n)) }
            last = c
        }
        // Few classes: sizes 1...100k share about 4 per doubling.
        #expect(Set((1...100_000).map(BufferPool.sizeClass)).count < 80)
    }
}
