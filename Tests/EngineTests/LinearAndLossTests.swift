import Testing
import TestSupport
@testable import Engine
import Support

@Suite struct LinearAndLossTests {
    @Test func linearGradients() {
        let x = randn([5, 7], seed: 1), w = randn([3, 7], seed: 2), b = randn([3], seed: 3)
        checkGradients([x, w, b]) { linear($0[0], $0[1], $0[2]) }
    }

    @Test func linearMatchesHandComputation() {
        let x = Tensor([1, 2, 3, 4], shape: [2, 2])
        let w = Tensor([1, 0, 1, 1, 0, 2], shape: [3, 2])
        let b = Tensor([0.5, -1, 0], shape: [3])
        #expect(linear(x, w, b).array == [1.5, 2, 4, 3.5, 6, 8])
    }

    @Test func matmulGradients() {
        let a = randn([4, 6], seed: 4), b = randn([6, 3], seed: 5)
        checkGradients([a, b]) { matmul($0[0], $0[1]) }
    }

    @Test func activationGradients() {
        let x = randnAwayFromZero([4, 9], seed: 6)
        checkGradients([x]) { relu($0[0]) }
        checkGradients([x]) { leakyRelu($0[0], slope: 0.1) }
        checkGradients([x]) { tanh($0[0]) }
        checkGradients([x]) { sigmoid($0[0]) }
    }

    @Test func crossEntropyGradients() {
        let logits = randn([6, 5], seed: 8)
        checkGradients([logits]) { crossEntropy($0[0], labels: [0, 4, 2, 2, 1, 3]) }
        var rng = RNG(seed: 9)
        let t = Tensor(zeros: [6, 5])
        for i in 0..<6 {
            var row = (0..<5).map { _ in rng.uniform() }
            let s = row.reduce(0, +); row = row.map { $0 / s }
            for j in 0..<5 { t.ptr[i * 5 + j] = row[j] }
        }
        checkGradients([logits]) { crossEntropy($0[0], soft: t) }
    }

    @Test func crossEntropyOfUniformLogitsIsLogK() {
        let logits = Tensor(zeros: [3, 10])
        #expect(abs(crossEntropy(logits, labels: [1, 2, 3]).item - logf(10)) < 1e-6)
    }

    @Test func reshapeGradients() {
        let x = randn([2, 3, 4], seed: 10)
        checkGradients([x]) { tanh($0[0].reshaped([6, -1])) }
    }
}

import Foundation
