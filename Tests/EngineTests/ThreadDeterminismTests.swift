import Foundation
import Testing
import TestSupport
@testable import Engine
import Support

/// The determinism contract (see `Parallel`): how work is cut depends on the problem only, so one
/// computation gives the same bytes on 1, 2 or 3 threads, and run nested inside another parallel
/// loop (where it runs serially) or at the top level. The issue this guards against: a conv that
/// cut its batch by the core count gave other floats with one CaG lane than with two.
@Suite struct ThreadDeterminismTests {
    /// Forward output and every gradient of a conv -> batch norm -> relu -> conv -> sum chain.
    static func convChain(n: Int, hw: Int, cin: Int = 3, hidden: Int = 16) -> [[Float]] {
        let x = randn([n, cin, hw, hw], seed: 11)
        let w1 = randn([hidden, cin, 3, 3], seed: 12, scale: 0.3), b1 = randn([hidden], seed: 13)
        let w2 = randn([8, hidden, 3, 3], seed: 14, scale: 0.3), b2 = randn([8], seed: 15)
        let gamma = randn([hidden], seed: 16), beta = randn([hidden], seed: 17)
        let mean = Tensor(zeros: [hidden]), variance = Tensor(filled: 1, shape: [hidden])
        let h = relu(batchNorm(conv2d(x, w1, b1, padding: 1), weight: gamma, bias: beta,
                               runningMean: mean, runningVar: variance, training: true))
        let y = conv2d(h, w2, b2, stride: 2, padding: 1)
        sum(y * y).backward()
        return [y.array, mean.array, variance.array] + [x, w1, b1, w2, b2, gamma, beta].map { Array($0.grad!.buffer) }
    }

    // Batches whose convs stay one group or cut into two, with one-sample and multi-sample chunks.
    @Test(arguments: [(1, 12), (2, 28), (5, 14), (16, 28), (64, 7)])
    func convChainIsTheSameOnAnyNumberOfThreads(_ c: (Int, Int)) {
        let reference = Parallel.withThreads(1) { Self.convChain(n: c.0, hw: c.1) }
        for threads in [2, 3] {
            let other = Parallel.withThreads(threads) { Self.convChain(n: c.0, hw: c.1) }
            #expect(other == reference, "\(threads) threads, batch \(c.0) at \(c.1) px")
        }
    }

    /// A fused conv op(x, w, b) with a 3x3 weight, forward and gradients: the generator's
    /// up-sampling conv (phase kernels -> conv2d -> interleave) or the discriminator's pooled conv
    /// (4x4 kernel sums -> stride-2 conv2d).
    static func fusedConv(_ op: (Tensor, Tensor, Tensor) -> Tensor, n: Int, hw: Int) -> [[Float]] {
        let x = randn([n, 8, hw, hw], seed: 18), w = randn([4, 8, 3, 3], seed: 19, scale: 0.3), b = randn([4], seed: 20)
        let y = op(x, w, b)
        sum(y * y).backward()
        return [y.array] + [x, w, b].map { Array($0.grad!.buffer) }
    }

    static func expectFusedConvIsTheSameOnAnyNumberOfThreads(_ op: (Tensor, Tensor, Tensor) -> Tensor, n: Int, hw: Int) {
        let reference = Parallel.withThreads(1) { fusedConv(op, n: n, hw: hw) }
        for threads in [2, 3] {
            #expect(Parallel.withThreads(threads) { fusedConv(op, n: n, hw: hw) } == reference, "\(threads) threads, batch \(n) at \(hw) px")
        }
    }

    @Test(arguments: [(1, 7), (64, 7), (64, 14)])
    func upsampleConvIsTheSameOnAnyNumberOfThreads(_ c: (Int, Int)) {
        Self.expectFusedConvIsTheSameOnAnyNumberOfThreads({ upsampleConv2d($0, $1, $2) }, n: c.0, hw: c.1)
    }

    @Test(arguments: [(1, 14), (128, 14), (128, 28)])
    func pooledConvIsTheSameOnAnyNumberOfThreads(_ c: (Int, Int)) {
        Self.expectFusedConvIsTheSameOnAnyNumberOfThreads({ conv2dAvgPool2x($0, $1, $2) }, n: c.0, hw: c.1)
    }

    @Test func mapIsInPartOrderOnAnyNumberOfThreads() {
        for threads in [1, 2, 3] {
            #expect(Parallel.withThreads(threads) { Parallel.map(7) { $0 * $0 } } == (0..<7).map { $0 * $0 }, "\(threads) threads")
        }
        #expect(Parallel.map(0) { $0 }.isEmpty)
    }

    @Test func convChainIsTheSameNestedAsAtTheTop() {
        let top = Parallel.withThreads(2) { Self.convChain(n: 16, hw: 28) }
        var nested: [[[Float]]] = [[], []]
        nested.withUnsafeMutableBufferPointer { slots in
            let out = slots.baseAddress!
            Parallel.withThreads(2) {
                Parallel.forEach(2) { i in out[i] = Self.convChain(n: 16, hw: 28) }
            }
        }
        #expect(nested[0] == top && nested[1] == top)
    }

    @Test func partsAreFixedByTheProblem() {
        // The cut covers 0..<n exactly, in order, whatever the thread count.
        for n in [0, 1, 7, 64, 129] {
            for parts in [1, 2, 3, 4] where parts <= max(n, 1) {
                let ranges = (0..<parts).map { Parallel.part($0, of: parts, items: n) }
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == n)
                for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
                #expect(ranges.map(\.count).max()! - ranges.map(\.count).min()! <= 1)
            }
        }
        #expect(ConvChunking.groups(samples: 1, positions: 784) == 1)
        #expect(ConvChunking.groups(samples: 2, positions: 49) == 1, "a small batch stays one GEMM")
        #expect(ConvChunking.groups(samples: 128, positions: 784) == ConvChunking.maxGroups)
    }

    @Test func eachPartRunsOnceOnAnyNumberOfThreads() {
        for threads in [1, 2, 3, 5] {
            var seen = [Int](repeating: 0, count: 37)
            seen.withUnsafeMutableBufferPointer { s in
                let p = s.baseAddress!
                Parallel.withThreads(threads) { Parallel.forEach(37) { i in p[i] += 1 } }
            }
            #expect(seen == [Int](repeating: 1, count: 37), "\(threads) threads")
        }
    }
}
