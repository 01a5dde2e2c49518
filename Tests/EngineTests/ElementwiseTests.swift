import Foundation
import Testing
import TestSupport
@testable import Engine
import Support

/// Positive values in [0.5, 2.5) for sqrt, log, pow and divisors.
private func positive(_ shape: [Int], seed: UInt64) -> Tensor {
    let t = randn(shape, seed: seed)
    for i in 0..<t.count { t.ptr[i] = 0.5 + abs(t.ptr[i]).truncatingRemainder(dividingBy: 2) }
    return t
}

/// Reference broadcasting by explicit index arithmetic, to compare the strided fast paths with.
private func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> [Float] {
    let rank = max(a.rank, b.rank)
    let sa = Array(repeating: 1, count: rank - a.rank) + a.shape
    let sb = Array(repeating: 1, count: rank - b.rank) + b.shape
    let out = zip(sa, sb).map { max($0, $1) }
    let total = out.reduce(1, *)
    var result = [Float](repeating: 0, count: total)
    for flat in 0..<total {
        var rem = flat, ia = 0, ib = 0, stepA = 1, stepB = 1
        for d in stride(from: rank - 1, through: 0, by: -1) {
            let i = rem % out[d]; rem /= out[d]
            if sa[d] != 1 { ia += i * stepA }
            if sb[d] != 1 { ib += i * stepB }
            stepA *= sa[d]; stepB *= sb[d]
        }
        result[flat] = f(a.ptr[ia], b.ptr[ib])
    }
    return result
}

@Suite struct BroadcastTests {
    static let shapePairs: [([Int], [Int])] = [
        ([2, 3, 2, 2], [2, 3, 2, 2]),   // equal shapes
        ([2, 3, 2, 2], [1, 3, 1, 1]),   // per-channel (batch norm affine)
        ([2, 3, 2, 2], [2, 3, 1, 1]),   // per-sample, per-channel (conditional batch norm)
        ([4, 3], [3]),                  // lower rank, right-aligned
        ([2, 3], [1]),                  // one-element tensor
        ([1, 3, 1, 1], [2, 3, 2, 2]),   // the broadcast operand first
        ([2, 1, 3], [1, 4, 1]),         // both operands broadcast
        ([2, 3, 2, 2], [2, 1, 2, 2]),   // a mask shared by the channels
        ([3, 1], [3, 4]),
    ]

    @Test(arguments: shapePairs)
    func valuesMatchNaiveBroadcast(_ sa: [Int], _ sb: [Int]) {
        let a = randn(sa, seed: 1, requiresGrad: false), b = positive(sb, seed: 2)
        #expect(add(a, b).array == naiveBroadcast(a, b, +))
        #expect(sub(a, b).array == naiveBroadcast(a, b, -))
        #expect(mul(a, b).array == naiveBroadcast(a, b, *))
        #expect(div(a, b).array == naiveBroadcast(a, b, /))
        #expect((a + b).shape == BroadcastPlan(sa, sb).shape)
    }

    @Test(arguments: shapePairs)
    func gradients(_ sa: [Int], _ sb: [Int]) {
        let a = randn(sa, seed: 3), b = randn(sb, seed: 4), bPos = positive(sb, seed: 5)
        checkGradients([a, b]) { add($0[0], $0[1]) }
        checkGradients([a, b]) { sub($0[0], $0[1]) }
        checkGradients([a, b]) { mul($0[0], $0[1]) }
        checkGradients([a, bPos]) { div($0[0], $0[1]) }
    }

    /// An input used twice: the second backward contribution must add to the first (the first
    /// one overwrites a fresh gradient buffer).
    @Test func gradientsAccumulateOverReuse() {
        let x = randn([2, 3, 2, 2], seed: 9), c = randn([1, 3, 1, 1], seed: 10), p = positive([2, 3, 2, 2], seed: 11)
        checkGradients([x, c]) { ($0[0] * $0[1] + $0[0]) * $0[0] - $0[1] }
        checkGradients([x]) { exp($0[0]) * $0[0] + clamp($0[0], min: -5, max: 5) - 2 * $0[0] }
        checkGradients([p]) { sqrt($0[0]) + pow($0[0], 1.5) + 1 / $0[0] + $0[0] / 3 + log($0[0]) }
        checkGradients([x]) { inputs in
            var rng = RNG(seed: 12)
            return dropout(inputs[0], p: 0.5, training: true, rng: &rng) + square(inputs[0])
        }
    }

    /// Scalars added to scalars (the terms of a summed loss) get fresh gradient buffers from the
    /// pool, which may hold an earlier step's values: the backward pass must overwrite them.
    @Test func scalarSumsOverwriteRecycledGradients() {
        for _ in 0..<3 {
            let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
            let h = x * 2
            (sum(h) + sum(square(h))).backward()
            #expect(x.grad!.pointer[0] == 10 && x.grad!.pointer[1] == 18 && x.grad!.pointer[2] == 26)
        }
    }

    @Test func onlyTheOperandThatNeedsAGradientGetsOne() {
        let x = randn([2, 3, 2, 2], seed: 6), frozen = randn([1, 3, 1, 1], seed: 7, requiresGrad: false)
        let y = sum(mul(x, frozen))
        y.backward()
        #expect(frozen.grad == nil)
        #expect(x.grad != nil)
    }

    @Test func planCollapsesFastPaths() {
        let same = BroadcastPlan([128, 32, 28, 28], [128, 32, 28, 28])
        #expect(same.outer.isEmpty && same.inner == 128 * 32 * 784)
        let perChannel = BroadcastPlan([128, 32, 28, 28], [1, 32, 1, 1])
        #expect(perChannel.outer == [128, 32] && perChannel.inner == 784 && perChannel.innerStrideB == 0)
        let perSample = BroadcastPlan([128, 32, 28, 28], [128, 32, 1, 1])
        #expect(perSample.outer == [128 * 32] && perSample.inner == 784 && perSample.outerStrideB == [1])
        let rows = BroadcastPlan([5, 7], [7])
        #expect(rows.outer == [5] && rows.inner == 7 && rows.outerStrideB == [0] && rows.innerStrideB == 1)
    }

    @Test func scalarOperators() {
        let x = randn([3, 4], seed: 8), p = positive([3, 4], seed: 9)
        checkGradients([x]) { $0[0] + 2 }
        checkGradients([x]) { 2 + $0[0] }
        checkGradients([x]) { $0[0] - 2 }
        checkGradients([x]) { 2 - $0[0] }
        checkGradients([x]) { $0[0] * 3 }
        checkGradients([x]) { 3 * $0[0] }
        checkGradients([x]) { $0[0] / 4 }
        checkGradients([p]) { 4 / $0[0] }
        checkGradients([x]) { -$0[0] }
        checkGradients([x, p]) { $0[0] * $0[1] + $0[0] / $0[1] - $0[1] }
        let v = x.array
        #expect((x + 2).array == v.map { $0 + 2 })
        #expect((2 - x).array == v.map { 2 - $0 })
        #expect((x / 4).array == v.map { $0 / 4 })
        #expect((-x).array == v.map { -$0 })
    }
}

@Suite struct MathTests {
    @Test func gradients() {
        let x = randn([3, 5], seed: 11), p = positive([3, 5], seed: 12)
        let away = randnAwayFromZero([3, 5], seed: 13, gap: 0.05)
        checkGradients([p]) { sqrt($0[0]) }
        checkGradients([x]) { square($0[0]) }
        checkGradients([x]) { exp($0[0]) }
        checkGradients([p]) { log($0[0]) }
        checkGradients([away]) { abs($0[0]) }
        checkGradients([x]) { pow($0[0], 3) }
        checkGradients([p]) { pow($0[0], 0.5) }
        checkGradients([p]) { pow($0[0], -1.5) }
        checkGradients([x]) { pow($0[0], 2) }
    }

    @Test func clampPassesGradientOnlyInside() {
        // No value within 0.05 of an edge, so the finite differences never cross one.
        let x = Tensor([-1.5, -0.7, -0.2, 0.1, 0.45, 0.9, 1.3, 2.0], shape: [2, 4], requiresGrad: true)
        checkGradients([x]) { clamp($0[0], min: -0.5, max: 1.0) }
        #expect(clamp(x, min: -0.5, max: 1.0).array == [-0.5, -0.5, -0.2, 0.1, 0.45, 0.9, 1.0, 1.0])
        x.zeroGrad()
        sum(clamp(x, min: -0.5, max: 1.0)).backward()
        #expect(x.grad!.buffer.map { $0 } == [0, 0, 1, 1, 1, 1, 0, 0])
    }

    @Test func values() {
        let p = positive([7], seed: 14)
        let v = p.array
        #expect(sqrt(p).array == v.map { $0.squareRoot() })
        #expect(exp(p).array == v.map { Foundation.expf($0) })
        #expect(log(p).array == v.map { Foundation.logf($0) })
        #expect(pow(p, 3).array == v.map { Foundation.powf($0, 3) })
        #expect(pow(p, 0).array == v.map { _ in 1 })
        #expect(abs(-p).array == v)
    }
}

@Suite struct ReductionTests {
    @Test func fullReductions() {
        let x = randn([2, 3, 4], seed: 21)
        checkGradients([x]) { sum($0[0]) }
        checkGradients([x]) { mean($0[0]) }
        let total = x.array.reduce(0.0) { $0 + Double($1) }
        #expect(abs(Double(sum(x).item) - total) < 1e-5)
        #expect(abs(Double(mean(x).item) - total / 24) < 1e-6)
        #expect(sum(x).shape == [1])
    }

    static let axisCases: [([Int], Bool)] = [
        ([0], false), ([1], true), ([2], false), ([-1], true), ([0, 2], false), ([1, 3], true),
        ([0, 1, 2, 3], false), ([0, 1, 2, 3], true), ([0, 2, 3], true),
    ]

    @Test(arguments: axisCases)
    func axisReductions(_ axes: [Int], _ keepDims: Bool) {
        let x = randn([2, 3, 2, 3], seed: 22)
        checkGradients([x]) { sum($0[0], axes: axes, keepDims: keepDims) }
        checkGradients([x]) { mean($0[0], axes: axes, keepDims: keepDims) }
        checkGradients([x]) { variance($0[0], axes: axes, keepDims: keepDims) }
        checkGradients([x]) { variance($0[0], axes: axes, keepDims: keepDims, unbiased: true) }
    }

    @Test func shapesAndValues() {
        let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let s = sum(x, axes: [1])
        #expect(s.shape == [2, 4])
        #expect(s.array == [12, 15, 18, 21, 48, 51, 54, 57])
        #expect(sum(x, axes: [1], keepDims: true).shape == [2, 1, 4])
        #expect(mean(x, axes: [0, 2]).array == [7.5, 11.5, 15.5])
        #expect(sum(x, axes: [0, 1, 2]).shape == [1])
        #expect(sum(x, axes: [-1]).array == [6, 22, 38, 54, 70, 86])
    }

    @Test func varianceMatchesTorch() {
        let x = Tensor(fixtureSequence(12), shape: [3, 4])
        // torch.var(x, dim=0, unbiased=True), torch.var(x, dim=1, unbiased=False)
        expectClose(variance(x, axes: [0], unbiased: true).array,
                    [1.5566513538360596, 2.7186412811279297, 2.2771942615509033, 1.734062671661377])
        expectClose(variance(x, axes: [1]).array, [0.757554292678833, 0.34638532996177673, 0.6650983691215515])
    }

    @Test func varianceOfLargeOffsetDoesNotCancel() {
        let x = Tensor([1000.0, 1000.5, 999.5, 1000.0], shape: [4])
        #expect(abs(variance(x, axes: [0]).item - 0.125) < 1e-6)
    }
}

@Suite struct SoftmaxAndNormalizeTests {
    @Test func gradients() {
        let x = randn([4, 6], seed: 31)
        checkGradients([x]) { softmax($0[0]) }
        checkGradients([x]) { logSoftmax($0[0]) }
        checkGradients([x]) { l2Normalize($0[0]) }
        // Every row's norm (about 2.4) below eps: the floor divides, and its gradient is linear.
        checkGradients([x]) { l2Normalize($0[0], eps: 10) }
    }

    @Test func valuesMatchTorch() {
        let x = Tensor(fixtureSequence(12), shape: [3, 4])
        expectClose(logSoftmax(x).array, [
            -3.0381510257720947, -1.81492018699646, -0.6895751357078552, -1.2467536926269531,
            -1.2044105529785156, -0.7736218571662903, -2.103041410446167, -2.1480836868286133,
            -0.38065701723098755, -2.116438865661621, -2.3015217781066895, -2.3431830406188965])
        expectClose(softmax(x).array, [
            0.04792341962456703, 0.16285091638565063, 0.5017892122268677, 0.2874363958835602,
            0.29986870288848877, 0.46133914589881897, 0.12208455801010132, 0.11670760810375214,
            0.6834122538566589, 0.12045983225107193, 0.1001063883304596, 0.09602150321006775])
        expectClose(l2Normalize(x).array, [
            0.0, 0.38261088728904724, 0.7346043586730957, 0.560326099395752,
            0.5616176724433899, 0.6587130427360535, 0.3590754568576813, 0.34892338514328003,
            0.8333488702774048, -0.22933094203472137, -0.3426423668861389, -0.36814823746681213])
    }

    @Test func largeLogitsStayFinite() {
        let x = Tensor([1000, 0, -1000, 999], shape: [2, 2])
        #expect(softmax(x).array.allSatisfy { $0.isFinite })
        #expect(logSoftmax(x).array.allSatisfy { $0.isFinite })
        #expect(l2Normalize(Tensor(zeros: [2, 3])).array == [0, 0, 0, 0, 0, 0])
    }
}

@Suite struct MaskedMSEDropoutEmbeddingTests {
    @Test func maskedMSEGradients() {
        let pred = randn([2, 3, 2, 2], seed: 41), target = randn([2, 3, 2, 2], seed: 42)
        var rng = RNG(seed: 43)
        let full = Tensor(zeros: [2, 3, 2, 2]), perPixel = Tensor(zeros: [2, 1, 2, 2])
        for i in 0..<full.count { full.ptr[i] = rng.uniform() < 0.5 ? 1 : 0 }
        for i in 0..<perPixel.count { perPixel.ptr[i] = rng.uniform() < 0.5 ? 1 : 0 }
        checkGradients([pred, target]) { maskedMSE($0[0], $0[1], mask: full) }
        checkGradients([pred, target]) { maskedMSE($0[0], $0[1], mask: perPixel) }
        let frozenTarget = target.detached()
        checkGradients([pred]) { maskedMSE($0[0], frozenTarget, mask: perPixel) }
    }

    @Test func maskedMSEMatchesTorch() {
        let p = Tensor(fixtureSequence(24), shape: [2, 3, 2, 2]), t = Tensor(fixtureSequence(24, 1), shape: [2, 3, 2, 2])
        let m = Tensor([1, 0, 0, 1, 0, 1, 1, 1], shape: [2, 1, 2, 2])
        // ((p - t)**2 * m).sum() / m.expand_as(p).sum()
        expectClose(maskedMSE(p, t, mask: m).array, [1.8552759885787964])
        #expect(maskedMSE(p, t, mask: Tensor(zeros: [2, 1, 2, 2])).item == 0)
        let ones = Tensor(filled: 1, shape: [2, 3, 2, 2])
        expectClose(maskedMSE(p, t, mask: ones).array, [mean(square(p - t)).item])
    }

    @Test func dropoutGradientsWithAFixedMask() {
        let x = randn([4, 8], seed: 51)
        checkGradients([x]) { inputs in
            var rng = RNG(seed: 52)
            return dropout(inputs[0], p: 0.3, training: true, rng: &rng)
        }
    }

    @Test func dropoutScalesSurvivorsAndIsIdentityInEvaluation() {
        let x = Tensor(filled: 1, shape: [100, 100])
        var rng = RNG(seed: 53)
        let y = dropout(x, p: 0.25, training: true, rng: &rng)
        let kept = y.array.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        #expect(abs(Double(kept.count) / 10_000 - 0.75) < 0.02)
        #expect(dropout(x, p: 0.25, training: false, rng: &rng) === x)
        #expect(dropout(x, p: 0, training: true, rng: &rng) === x)
        #expect(dropout(x, p: 1, training: true, rng: &rng).array.allSatisfy { $0 == 0 })

        let layer = Dropout(0.5, seed: 9), again = Dropout(0.5, seed: 9)
        #expect(layer(x).array == again(x).array)
        layer.eval()
        #expect(layer(x) === x)
    }

    @Test func embeddingGathersAndScatters() {
        let w = randn([5, 3], seed: 61)
        checkGradients([w]) { embedding($0[0], [4, 0, 4, 2]) }
        let rows = embedding(w, [3, 1])
        #expect(rows.shape == [2, 3])
        #expect(rows.array == Array(w.array[9..<12] + w.array[3..<6]))

        var rng = RNG(seed: 62)
        let layer = Embedding(10, 4, rng: &rng)
        #expect(layer.stateDict().map(\.name) == ["weight"])
        #expect(layer([1, 2]).shape == [2, 4])
        let v = layer.weight.array
        let m = v.reduce(0, +) / 40
        #expect(abs(m) < 0.5 && v.contains { abs($0) > 0.5 })
    }
}
