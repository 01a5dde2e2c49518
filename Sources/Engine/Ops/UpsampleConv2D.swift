import Support

/// A 3x3 convolution (padding 1) of the 2x nearest up-sampled input, computed on the input:
/// x [N, C, H, W], weight [O, C, 3, 3], bias [O] -> [N, O, 2H, 2W], equal to
/// conv2d(resize(x, 2H, 2W, .nearest), weight, bias, padding: 1) up to the order of its sums.
///
/// Why: every output pixel of one phase (row parity a, column parity b) reads only 2x2 input
/// pixels, because nearest up-sampling repeats each of them twice per axis; the 3x3 taps that land
/// on one input pixel add up. So the four phases are one 2x2 convolution (padding 1) of the small
/// input with four summed kernels stacked as 4O output channels, and the result is interleaved
/// back. Against up-sample-then-convolve that is 16/36 of the multiply-adds (with an (H+1)/H
/// margin per axis), an unfold of 4 taps on H x W pixels instead of 9 on 2H x 2W, a GEMM four
/// times as tall, and no up-sampled copy of the input, kept alive for the backward pass.
///
/// The generator's up-sampling blocks use it (`Conv2d.upsampled`). Wired in alone (60c9379) it
/// raised train-gan's peak RSS from 362 to 390 MB; together with the discriminator's pooled conv
/// (`conv2dAvgPool2x`) and the generator's split concat shortcut the peak is 356 MB.
///
/// The three pieces are ops of their own (the kernel sums, conv2d, the interleave), each with its
/// backward pass, so gradients and the determinism of conv2d carry over.
public func upsampleConv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1]
                 && weight.shape[2] == 3 && weight.shape[3] == 3,
                 "upsampleConv2d: input \(x.shape) does not fit a 3x3 weight \(weight.shape)")
    precondition(bias == nil || bias!.count == weight.shape[0],
                 "upsampleConv2d: bias \(bias!.shape) for weight \(weight.shape)")
    let phases = conv2d(x, upsamplePhaseKernels(weight), nil, stride: 1, padding: 1)
    return interleavePhases(phases, bias)
}

/// Rows of the 3x3 kernel that each of the 2x2 phase kernel's rows adds up, for row parity a:
/// output row 2i reads up-sampled rows 2i-1, 2i, 2i+1, i.e. input rows i-1 (tap 0) and i (taps
/// 1, 2); output row 2i+1 reads input rows i (taps 0, 1) and i+1 (tap 2). Columns alike.
private let phaseTaps: [[ClosedRange<Int>]] = [[0...0, 1...2], [0...1, 2...2]]

/// weight [O, C, 3, 3] -> the four phase kernels [4O, C, 2, 2], phase p = 2a + b first:
/// K[p*O + o, c, ty, tx] = sum of weight[o, c, dy, dx] over dy in phaseTaps[a][ty], dx in phaseTaps[b][tx].
func upsamplePhaseKernels(_ weight: Tensor) -> Tensor {
    let planes = weight.shape[0] * weight.shape[1]
    return summedKernel(weight, shape: [4 * weight.shape[0], weight.shape[1], 2, 2]) { forEachPhaseTap(planes: planes, $0) }
}

/// body(entry, tap) for every 3x3 tap summed into a phase-kernel entry, in one fixed order:
/// `entry` indexes the kernels [4O, C, 2, 2], `tap` the weight [O, C, 3, 3] (`planes` = O*C).
@inline(__always)
private func forEachPhaseTap(planes: Int, _ body: (_ entry: Int, _ tap: Int) -> Void) {
    for phase in 0..<4 {
        let a = phase / 2, b = phase % 2
        for plane in 0..<planes {
            for t in 0..<4 {
                let ty = t / 2, tx = t % 2, entry = (phase * planes + plane) * 4 + t
                for dy in phaseTaps[a][ty] {
                    for dx in phaseTaps[b][tx] { body(entry, plane * 9 + dy * 3 + dx) }
                }
            }
        }
    }
}

/// The phase planes [N, 4O, H+1, W+1] of `upsampleConv2d` -> [N, O, 2H, 2W] (+ bias):
/// y[n, o, 2i+a, 2j+b] = t[n, (2a+b)*O + o, i+a, j+b]. Phase a = 0 reads the 2x2 window that
/// starts one row above input row i (conv output row i), a = 1 the one starting at row i (row i+1).
func interleavePhases(_ t: Tensor, _ bias: Tensor?) -> Tensor {
    precondition(t.rank == 4 && t.shape[1] % 4 == 0, "interleavePhases: \(t.shape)")
    let n = t.shape[0], o = t.shape[1] / 4, th = t.shape[2], tw = t.shape[3]
    let h = th - 1, w = tw - 1, oh = 2 * h, ow = 2 * w
    let out = Tensor(uninitialized: [n, o, oh, ow])
    let tp = t.ptr, yp = out.ptr, tPlane = th * tw, yPlane = oh * ow
    // Output planes are independent: one part per (sample, channel).
    Parallel.forEach(n * o, work: out.count) { plane in
        let s = plane / o, ch = plane % o, add = bias?.ptr[ch] ?? 0
        let y = yp + plane * yPlane
        for a in 0..<2 {
            for b in 0..<2 {
                let src = tp + (s * 4 * o + (2 * a + b) * o + ch) * tPlane + a * tw + b
                for i in 0..<h {
                    let row = src + i * tw, dst = y + (2 * i + a) * ow + b
                    for j in 0..<w { dst[2 * j] = row[j] + add }
                }
            }
        }
    }
    let parents = bias.map { [t, $0] } ?? [t]
    return out.withBackward(parents: parents) { out in
        let g = out.grad!.pointer
        if t.requiresGrad {
            // Every phase plane entry receives at most one output pixel; the margins none.
            let gt = t.gradPtr
            Parallel.forEach(n * o, work: out.count) { plane in
                let s = plane / o, ch = plane % o, gy = g + plane * yPlane
                for a in 0..<2 {
                    for b in 0..<2 {
                        let dst = gt + (s * 4 * o + (2 * a + b) * o + ch) * tPlane + a * tw + b
                        for i in 0..<h {
                            let row = dst + i * tw, src = gy + (2 * i + a) * ow + b
                            for j in 0..<w { row[j] += src[2 * j] }
                        }
                    }
                }
            }
        }
        if let bias, bias.requiresGrad { addChannelSums(g, samples: n, channels: o, hw: yPlane, into: bias.gradPtr) }
    }
}
