import Testing
import TestSupport
@testable import Engine
import Support

/// Distinct values spaced `step` apart inside every plane of up to 1009 pixels (a permutation of
/// 0..<1009, shifted), so max-pool windows never hold near-ties that +-eps could reorder.
private func spread(_ shape: [Int], seed: Int, step: Float = 0.05) -> Tensor {
    let t = Tensor(zeros: shape, requiresGrad: true)
    for i in 0..<t.count { t.ptr[i] = Float((i * 7919 + seed * 104_729) % 1009 - 504) * step }
    return t
}

@Suite struct SpatialOpTests {
    // MARK: conv2d

    @Test(arguments: [
        // (N, Cin, H, W, Cout, k, stride, padding, bias)
        (2, 3, 7, 5, 4, 3, 1, 1, true),
        (2, 3, 7, 5, 4, 3, 1, 0, false),
        (2, 2, 8, 7, 3, 3, 2, 0, true),
        (1, 2, 7, 6, 2, 3, 2, 1, true),
        (2, 2, 5, 6, 3, 3, 1, 2, true),
        (2, 3, 4, 5, 4, 1, 1, 0, true),   // pointwise
        (2, 3, 4, 5, 4, 1, 2, 0, false),  // strided pointwise still unfolds
        (3, 1, 6, 6, 2, 2, 2, 1, true),
        (2, 2, 6, 7, 3, 5, 1, 2, true),   // "same" 5x5: two zeroed edge columns per side
        (2, 2, 3, 2, 2, 5, 1, 2, true),   // kernel wider than the image
    ])
    func conv2dGradients(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Bool)) {
        let (n, cin, h, w, cout, k, s, p, hasBias) = c
        let x = randn([n, cin, h, w], seed: 1), wt = randn([cout, cin, k, k], seed: 2, scale: 0.5)
        let b = randn([cout], seed: 3)
        let inputs = hasBias ? [x, wt, b] : [x, wt]
        checkGradients(inputs) { conv2d($0[0], $0[1], hasBias ? $0[2] : nil, stride: s, padding: p) }
    }

    @Test func conv2dNonSquareKernels() {
        let x = randn([2, 2, 5, 6], seed: 32), b = randn([3], seed: 33)
        for (kh, kw, p) in [(2, 3, 1), (3, 2, 1), (1, 3, 1), (3, 1, 0)] {
            let w = randn([3, 2, kh, kw], seed: 34, scale: 0.5)
            checkGradients([x, w, b]) { conv2d($0[0], $0[1], $0[2], padding: p) }
        }
    }

    @Test func conv2dChunkedMatchesWholeBatch() {
        // One GEMM per sample, 2 samples per chunk (a ragged last chunk), and the whole batch (whose
        // column matrix the backward pass reuses) must agree, for unfolded and pointwise kernels.
        for (k, s, p) in [(3, 1, 1), (1, 1, 0), (3, 2, 0)] {
            let x = randn([5, 3, 6, 7], seed: 4), w = randn([4, 3, k, k], seed: 5), b = randn([4], seed: 6)
            var results: [[[Float]]] = []
            for chunk in [5, 1, 2] {
                x.zeroGrad(); w.zeroGrad(); b.zeroGrad()
                let y = conv2d(x, w, b, stride: s, padding: p, chunk: chunk)
                y.backward(seed: randn(y.shape, seed: 7, requiresGrad: false))
                results.append([y.array, x.grad!.buffer.map { $0 }, w.grad!.buffer.map { $0 }, b.grad!.buffer.map { $0 }])
            }
            for r in results.dropFirst() {
                for (a, e) in zip(r, results[0]) { expectClose(a, e, tol: 1e-5) }
            }
            for chunk in [1, 2, 5] {
                checkGradients([x, w, b]) { conv2d($0[0], $0[1], $0[2], stride: s, padding: p, chunk: chunk) }
            }
        }
    }

    @Test(arguments: [1, 2])
    func conv2dSkipsFrozenGradients(chunk: Int) {
        let x = randn([2, 2, 5, 5], seed: 8), w = randn([3, 2, 3, 3], seed: 9), b = randn([3], seed: 10)
        w.requiresGrad = false; b.requiresGrad = false
        checkGradients([x, w, b]) { conv2d($0[0], $0[1], $0[2], stride: 1, padding: 1, chunk: chunk) }
        #expect(w.grad == nil && b.grad == nil)
        let image = randn([2, 2, 5, 5], seed: 11, requiresGrad: false)
        w.requiresGrad = true; b.requiresGrad = true
        checkGradients([image, w, b]) { conv2d($0[0], $0[1], $0[2], stride: 1, padding: 1, chunk: chunk) }
        #expect(image.grad == nil)
    }

    @Test func conv2dByHand() {
        // Ones through a 3x3 ones kernel with padding 1 count the in-image neighbours.
        let x = Tensor(filled: 1, shape: [1, 1, 3, 3]), w = Tensor(filled: 1, shape: [1, 1, 3, 3])
        let counts: [Float] = [4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5]
        #expect(conv2d(x, w, Tensor([0.5], shape: [1]), padding: 1).array == counts)
        // Cross-correlation, not convolution: the kernel is not flipped.
        let ramp = Tensor((0..<16).map(Float.init), shape: [1, 1, 4, 4])
        let k = Tensor([1, 0, 0, 2], shape: [1, 1, 2, 2])
        let picked: [Float] = [0 + 2 * 5, 2 + 2 * 7, 8 + 2 * 13, 10 + 2 * 15]
        #expect(conv2d(ramp, k, nil, stride: 2).array == picked)
        // An empty batch stays empty.
        #expect(conv2d(Tensor(zeros: [0, 1, 4, 4]), k, nil).shape == [0, 1, 3, 3])
    }

    // MARK: convTranspose2d

    @Test(arguments: [
        // (N, Cin, H, W, Cout, k, stride, padding, outputPadding, bias)
        (2, 3, 3, 4, 2, 4, 2, 1, 0, true),   // DCGAN upsampling block
        (2, 2, 4, 3, 3, 3, 1, 0, 0, true),
        (1, 2, 4, 4, 2, 3, 1, 1, 0, false),
        (2, 2, 3, 3, 2, 3, 2, 1, 1, true),   // outputPadding
        (2, 3, 2, 3, 2, 1, 1, 0, 0, true),
    ])
    func convTranspose2dGradients(_ c: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Bool)) {
        let (n, cin, h, w, cout, k, s, p, op, hasBias) = c
        let x = randn([n, cin, h, w], seed: 12), wt = randn([cin, cout, k, k], seed: 13, scale: 0.5)
        let b = randn([cout], seed: 14)
        let inputs = hasBias ? [x, wt, b] : [x, wt]
        checkGradients(inputs) {
            convTranspose2d($0[0], $0[1], hasBias ? $0[2] : nil, stride: s, padding: p, outputPadding: op)
        }
        let y = Autodiff.withoutGrad { convTranspose2d(x, wt, nil, stride: s, padding: p, outputPadding: op) }
        #expect(y.shape == [n, cout, (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op])
    }

    @Test func convTranspose2dChunkedMatchesWholeBatch() {
        let x = randn([5, 3, 3, 4], seed: 15), w = randn([3, 2, 4, 4], seed: 16), b = randn([2], seed: 17)
        var results: [[[Float]]] = []
        for chunk in [5, 1, 2] {
            x.zeroGrad(); w.zeroGrad(); b.zeroGrad()
            let y = convTranspose2d(x, w, b, stride: 2, padding: 1, outputPadding: 0, chunk: chunk)
            y.backward(seed: randn(y.shape, seed: 18, requiresGrad: false))
            results.append([y.array, x.grad!.buffer.map { $0 }, w.grad!.buffer.map { $0 }, b.grad!.buffer.map { $0 }])
        }
        for r in results.dropFirst() {
            for (a, e) in zip(r, results[0]) { expectClose(a, e, tol: 1e-5) }
        }
        for chunk in [1, 2, 5] {
            checkGradients([x, w, b]) { convTranspose2d($0[0], $0[1], $0[2], stride: 2, padding: 1, outputPadding: 0, chunk: chunk) }
        }
    }

    @Test func convTranspose2dIsTheAdjointOfConv2d() {
        // <conv(x), y> == <x, convT(y)> for the same weight: the defining property.
        let x = randn([2, 3, 8, 8], seed: 19, requiresGrad: false), w = randn([4, 3, 4, 4], seed: 20, requiresGrad: false)
        let cx = conv2d(x, w, nil, stride: 2, padding: 1)
        let y = randn(cx.shape, seed: 21, requiresGrad: false)
        let ty = convTranspose2d(y, w, nil, stride: 2, padding: 1)
        #expect(ty.shape == x.shape)
        let lhs = zip(cx.array, y.array).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let rhs = zip(x.array, ty.array).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(lhs - rhs) < 1e-3 * max(1, abs(lhs)))
    }

    @Test func convTranspose2dByHand() {
        // One pixel of value 2 stamps the (scaled) kernel into the output.
        let x = Tensor([2], shape: [1, 1, 1, 1]), w = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
        #expect(convTranspose2d(x, w, nil, stride: 2).array == [2, 4, 6, 8])
        // Two pixels, stride 1: the stamps overlap and add.
        let x2 = Tensor([1, 10], shape: [1, 1, 1, 2])
        #expect(convTranspose2d(x2, w, Tensor([1], shape: [1])).array == [2, 13, 21, 4, 35, 41])
    }

    // MARK: pooling

    @Test func poolingGradients() {
        let x = spread([2, 3, 7, 6], seed: 1)
        checkGradients([x]) { maxPool2d($0[0], kernel: 2) }
        checkGradients([x]) { maxPool2d($0[0], kernel: 3, stride: 2) }
        checkGradients([x]) { maxPool2d($0[0], kernel: 3, stride: 1) }
        checkGradients([x]) { avgPool2d($0[0], kernel: 2) }
        checkGradients([x]) { avgPool2d($0[0], kernel: 3, stride: 2) }
        checkGradients([x]) { globalAveragePool($0[0]) }
    }

    @Test func poolingByHand() {
        let x = Tensor((0..<16).map { Float(($0 * 5) % 16) }, shape: [1, 1, 4, 4], requiresGrad: true)
        // rows: [0 5 10 15] [4 9 14 3] [8 13 2 7] [12 1 6 11]
        #expect(maxPool2d(x, kernel: 2).array == [9, 15, 13, 11])
        #expect(avgPool2d(x, kernel: 2).array == [4.5, 10.5, 8.5, 6.5])
        #expect(maxPool2d(x, kernel: 3, stride: 1).array == [14, 15, 14, 14])
        #expect(globalAveragePool(x).array == [7.5])
        #expect(maxPool2d(x, kernel: 2).shape == [1, 1, 2, 2])
        #expect(maxPool2d(Tensor(zeros: [2, 3, 7, 5]), kernel: 2).shape == [2, 3, 3, 2])
        // Ties: the first (row-major) maximum takes the whole gradient, as in PyTorch.
        let flat = Tensor(filled: 1, shape: [1, 1, 2, 4], requiresGrad: true)
        maxPool2d(flat, kernel: 2).backward(seed: Tensor([1, 2], shape: [1, 1, 1, 2]))
        #expect(flat.grad!.buffer.map { $0 } == [1, 0, 2, 0, 0, 0, 0, 0])
        // Overlapping windows send gradient to the same winner more than once.
        let y = maxPool2d(x, kernel: 3, stride: 1)
        x.zeroGrad()
        y.backward(seed: Tensor(filled: 1, shape: y.shape))
        #expect(x.grad!.pointer[6] == 3 && x.grad!.pointer[3] == 1)
    }

    // MARK: fused convs (upsampleConv2d, conv2dAvgPool2x)

    /// Finite-difference gradients of a fused conv op(x, w, b) with a 3x3 weight, for the case
    /// (n, cin, h, w, cout, hasBias).
    static func checkFusedConvGradients(_ op: @escaping (Tensor, Tensor, Tensor?) -> Tensor,
                                        _ c: (Int, Int, Int, Int, Int, Bool), seed: UInt64) {
        let (n, cin, h, w, cout, hasBias) = c
        let x = randn([n, cin, h, w], seed: seed), wt = randn([cout, cin, 3, 3], seed: seed + 1, scale: 0.5)
        let b = randn([cout], seed: seed + 2)
        checkGradients(hasBias ? [x, wt, b] : [x, wt]) { op($0[0], $0[1], hasBias ? $0[2] : nil) }
    }

    /// Values and all three gradients of a fused conv against the composition it replaces (the
    /// same products, summed in another order).
    static func expectFusedMatchesComposed(_ fused: (Tensor, Tensor, Tensor) -> Tensor, _ composed: (Tensor, Tensor, Tensor) -> Tensor,
                                           x: Tensor, weight wt: Tensor, bias b: Tensor, shape: [Int], seed: UInt64) {
        var results: [[[Float]]] = []
        for isFused in [false, true] {
            x.zeroGrad(); wt.zeroGrad(); b.zeroGrad()
            let y = isFused ? fused(x, wt, b) : composed(x, wt, b)
            #expect(y.shape == shape)
            y.backward(seed: randn(y.shape, seed: seed, requiresGrad: false))
            results.append([y.array, x.grad!.buffer.map { $0 }, wt.grad!.buffer.map { $0 }, b.grad!.buffer.map { $0 }])
        }
        for (a, e) in zip(results[1], results[0]) { expectClose(a, e, tol: 1e-4) }
    }

    @Test(arguments: [(2, 3, 4, 5, 2, true), (1, 2, 3, 3, 3, false), (3, 1, 1, 2, 2, true)])
    func upsampleConv2dGradients(_ c: (Int, Int, Int, Int, Int, Bool)) {
        Self.checkFusedConvGradients({ upsampleConv2d($0, $1, $2) }, c, seed: 40)
    }

    @Test func upsamplePhaseKernelsAndInterleaveGradients() {
        let wt = randn([3, 2, 3, 3], seed: 43)
        checkGradients([wt]) { upsamplePhaseKernels($0[0]) }
        let t = randn([2, 8, 4, 5], seed: 44), b = randn([2], seed: 45)
        checkGradients([t, b]) { interleavePhases($0[0], $0[1]) }
    }

    @Test func upsampleConv2dIsConvOfTheUpsampledInput() {
        // Against up-sampling first, as the generator did before.
        let x = randn([3, 4, 5, 6], seed: 46), wt = randn([3, 4, 3, 3], seed: 47), b = randn([3], seed: 48)
        Self.expectFusedMatchesComposed({ upsampleConv2d($0, $1, $2) },
                                        { conv2d(resize($0, height: 10, width: 12, mode: .nearest), $1, $2, padding: 1) },
                                        x: x, weight: wt, bias: b, shape: [3, 3, 10, 12], seed: 49)
    }

    @Test(arguments: [(2, 3, 4, 6, 2, true), (1, 2, 5, 3, 3, false), (3, 1, 2, 2, 2, true), (2, 2, 7, 7, 1, true)])
    func conv2dAvgPool2xGradients(_ c: (Int, Int, Int, Int, Int, Bool)) {
        Self.checkFusedConvGradients({ conv2dAvgPool2x($0, $1, $2) }, c, seed: 50)
    }

    @Test func avgPoolKernelsGradients() {
        let wt = randn([3, 2, 3, 3], seed: 53)
        checkGradients([wt]) { avgPoolKernels($0[0]) }
    }

    @Test(arguments: [(3, 4, 6, 8), (2, 3, 7, 5), (64, 2, 28, 28)])
    func conv2dAvgPool2xIsThePooledConv(_ c: (Int, Int, Int, Int)) {
        // Against convolving, then pooling, as the discriminator did before. Odd sides drop their
        // last row or column, as the pooling does.
        let (n, cin, h, w) = c
        let x = randn([n, cin, h, w], seed: 54), wt = randn([3, cin, 3, 3], seed: 55), b = randn([3], seed: 56)
        Self.expectFusedMatchesComposed({ conv2dAvgPool2x($0, $1, $2) }, { avgPool2d(conv2d($0, $1, $2, padding: 1), kernel: 2) },
                                        x: x, weight: wt, bias: b, shape: [n, 3, h / 2, w / 2], seed: 57)
    }

    // MARK: resize

    @Test func resizeGradients() {
        for mode in [ResizeMode.nearest, .bilinear] {
            for (h, w, oh, ow) in [(3, 4, 6, 8), (7, 7, 14, 14), (6, 8, 3, 4), (5, 5, 3, 3), (4, 6, 7, 5), (5, 3, 5, 3)] {
                let x = randn([2, 2, h, w], seed: 22)
                checkGradients([x]) { resize($0[0], height: oh, width: ow, mode: mode) }
            }
        }
    }

    @Test func resizeByHand() {
        let x = Tensor([0, 1, 2, 3], shape: [1, 1, 2, 2])
        #expect(resize(x, height: 4, width: 4, mode: .nearest).array == [0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3])
        // align_corners=False: sources -0.25 (clamped), 0.25, 0.75, 1.25 (clamped to the edge).
        let row = Tensor([0, 1], shape: [1, 1, 1, 2])
        #expect(resize(row, height: 1, width: 4, mode: .bilinear).array == [0, 0.25, 0.75, 1])
        // Halving with bilinear averages pixel pairs; nearest takes every other pixel.
        let four = Tensor([0, 1, 2, 3], shape: [1, 1, 1, 4])
        #expect(resize(four, height: 1, width: 2, mode: .bilinear).array == [0.5, 2.5])
        #expect(resize(four, height: 1, width: 2, mode: .nearest).array == [0, 2])
    }

    // MARK: gaussian blur

    @Test func gaussianBlurGradients() {
        let x = randn([2, 2, 6, 9], seed: 23)
        checkGradients([x]) { gaussianBlur($0[0], sigma: 1) }
        checkGradients([x]) { gaussianBlur($0[0], sigma: 0.7, kernelSize: 3) }
        // A radius beyond the image side keeps reflecting.
        let tiny = randn([1, 2, 3, 2], seed: 24)
        checkGradients([tiny]) { gaussianBlur($0[0], sigma: 2) }
    }

    @Test func gaussianBlurByHand() {
        // Reflect padding keeps a constant image constant, borders included.
        let flat = Tensor(filled: 3, shape: [1, 2, 5, 4])
        expectClose(gaussianBlur(flat, sigma: 1.5).array, flat.array, tol: 1e-6)
        expectClose(gaussianBlur(Tensor(filled: 3, shape: [1, 1, 2, 3]), sigma: 3).array, [Float](repeating: 3, count: 6), tol: 1e-6)
        // Far from the borders an impulse comes out as the outer product of the 1-D kernels.
        let k = gaussianKernel(size: 5, sigma: 1)
        #expect(abs(k.reduce(0, +) - 1) < 1e-6 && k[0] == k[4] && k[1] == k[3] && k[2] > k[1])
        let impulse = Tensor(zeros: [1, 1, 9, 9]); impulse.ptr[4 * 9 + 4] = 1
        let y = gaussianBlur(impulse, sigma: 1)
        var expected = [Float](repeating: 0, count: 81)
        for i in 0..<5 { for j in 0..<5 { expected[(2 + i) * 9 + 2 + j] = k[i] * k[j] } }
        expectClose(y.array, expected, tol: 1e-7)
        #expect(reflectTaps(length: 4, size: 5)[0..<5] == [2, 1, 0, 1, 2])
        #expect(reflectTaps(length: 2, size: 7)[0..<7] == [1, 0, 1, 0, 1, 0, 1])
    }

    // MARK: concat

    @Test func concatGradients() {
        let a = randn([2, 1, 3, 2], seed: 25), b = randn([2, 3, 3, 2], seed: 26), c = randn([2, 2, 3, 2], seed: 27)
        checkGradients([a, b, c]) { concat($0, axis: 1) }
        let d = randn([3, 3, 3, 2], seed: 28)
        checkGradients([b, d]) { concat($0, axis: 0) }
        let e = randn([2, 3, 3, 4], seed: 29)
        checkGradients([b, e]) { concat($0, axis: -1) }
        c.requiresGrad = false
        checkGradients([a, c]) { concat($0) }
        #expect(c.grad == nil)
    }

    @Test func concatByHand() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 1, 2]), b = Tensor([5, 6, 7, 8, 9, 10, 11, 12], shape: [2, 2, 2])
        let y = concat([a, b])
        #expect(y.shape == [2, 3, 2])
        #expect(y.array == [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12])
    }

    // MARK: slice

    @Test func sliceGradients() {
        let x = randn([2, 5, 3, 2], seed: 30)
        checkGradients([x]) { slice($0[0], axis: 1, range: 1..<4) }
        checkGradients([x]) { slice($0[0], axis: 0, range: 1..<2) }
        checkGradients([x]) { slice($0[0], axis: -1, range: 0..<1) }
    }

    @Test func sliceUndoesConcat() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 1, 2]), b = Tensor([5, 6, 7, 8, 9, 10, 11, 12], shape: [2, 2, 2])
        let y = concat([a, b])
        #expect(slice(y, axis: 1, range: 0..<1).array == a.array && slice(y, axis: 1, range: 1..<3).array == b.array)
        #expect(slice(y, axis: 1, range: 1..<3).shape == [2, 2, 2])
    }

    // MARK: translate2d

    @Test func translate2dGradients() {
        let x = randn([3, 2, 4, 5], seed: 31)
        checkGradients([x]) { translate2d($0[0], shifts: [(1, -2), (0, 0), (-3, 4)], value: -1) }
        checkGradients([x]) { translate2d($0[0], shifts: [(4, 0), (0, -5), (-1, 1)]) }  // two move out of the picture
    }

    /// Each sample moved by (dy, dx) is that sample padded by dy on top, dx on the left and
    /// cropped back to its size: pad2d with (dy, -dy, dx, -dx).
    @Test func translate2dIsPerSamplePadAndCrop() {
        let x = randn([3, 2, 4, 5], seed: 32)
        let shifts = [(dy: 1, dx: -2), (dy: -4, dx: 0), (dy: 0, dx: 3)]
        let y = translate2d(x, shifts: shifts, value: 0.25)
        for (n, s) in shifts.enumerated() {
            let one = slice(x, axis: 0, range: n..<(n + 1))
            let want = pad2d(one, top: s.dy, bottom: -s.dy, left: s.dx, right: -s.dx, value: 0.25)
            #expect(slice(y, axis: 0, range: n..<(n + 1)).array == want.array, "sample \(n)")
        }
        #expect(translate2d(x, shifts: [(0, 0), (0, 0), (0, 0)]).array == x.array)
    }

    // MARK: layers

    @Test func convLayersMatchPyTorchNamesShapesAndInit() {
        var rng = RNG(seed: 1)
        let conv = Conv2d(3, 8, kernel: 3, padding: 1, rng: &rng)
        #expect(conv.stateDict().map(\.name) == ["weight", "bias"])
        #expect(conv.weight.shape == [8, 3, 3, 3] && conv.bias!.shape == [8])
        let bound = 1 / Float(27).squareRoot()
        #expect(conv.weight.array.allSatisfy { abs($0) <= bound } && conv.bias!.array.allSatisfy { abs($0) <= bound })
        #expect(conv.weight.array.contains { abs($0) > bound * 0.9 })
        #expect(conv(Tensor(zeros: [2, 3, 5, 5])).shape == [2, 8, 5, 5])
        #expect(Conv2d(3, 8, kernel: 1, bias: false, rng: &rng).stateDict().map(\.name) == ["weight"])

        let up = ConvTranspose2d(8, 4, kernel: 4, stride: 2, padding: 1, rng: &rng)
        #expect(up.weight.shape == [8, 4, 4, 4] && up.bias!.shape == [4])
        let upBound = 1 / Float(4 * 16).squareRoot()
        #expect(up.weight.array.allSatisfy { abs($0) <= upBound } && up.weight.array.contains { abs($0) > upBound * 0.9 })
        #expect(up(Tensor(zeros: [2, 8, 7, 7])).shape == [2, 4, 14, 14])

        let seq = Sequential(conv, MaxPool2d(2), AvgPool2d(2, stride: 1))
        #expect(seq.stateDict().map(\.name) == ["0.weight", "0.bias"])
        #expect(seq(Tensor(zeros: [1, 3, 8, 8])).shape == [1, 8, 3, 3])
    }

    @Test func deterministic() {
        let x = randn([3, 4, 9, 9], seed: 30), w = randn([5, 4, 3, 3], seed: 31)
        let a = conv2d(gaussianBlur(x, sigma: 1), w, nil, padding: 1).array
        let b = conv2d(gaussianBlur(x, sigma: 1), w, nil, padding: 1).array
        #expect(a == b)
    }
}

