@testable import Engine
@testable import Models
import TestSupport
import Testing

/// Memory is reused across identical steps: after a warm-up, training steps take every buffer
/// from the pool and the pool stops creating memory. Each test binds a private pool for its own
/// warm-up and steps: the shared pool is process-wide, and tests running alongside would take
/// blocks from it (forcing this one to create more) or trim it, so its counter proves nothing.
struct MemoryReuseTests {
    /// Bytes a private pool creates while `work` runs, after `warmUp` ran in the same pool.
    static func poolGrowth(warmUp: () -> Void, _ work: () -> Void) -> Int {
        let pool = BufferPool()
        return BufferPool.$current.withValue(pool) {
            warmUp()
            let before = pool.bytesCreated
            work()
            return pool.bytesCreated - before
        }
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
        let grew = Self.poolGrowth(warmUp: { for _ in 0..<3 { step() } }) { for _ in 0..<20 { step() } }
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
        let grew = Self.poolGrowth(warmUp: pass) { for _ in 0..<3 { pass() } }
        #expect(grew == 0, "the pool created \(grew) bytes over passes of batch sizes it had seen")
    }

    /// The private pool really is where this task's buffers come from and go back to: otherwise
    /// the tests above would pass by counting nothing.
    @Test func boundPoolServesTheTask() {
        let pool = BufferPool()
        BufferPool.$current.withValue(pool) {
            _ = Buffer(count: 1000)
            #expect(pool.bytesCreated == BufferPool.sizeClass(1000) * 4)
            #expect(pool.bytesFree == pool.bytesCreated)
            _ = Buffer(count: 1000)
            #expect(pool.bytesCreated == BufferPool.sizeClass(1000) * 4)
        }
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
