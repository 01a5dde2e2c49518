import Support

/// A 3x3 convolution (padding 1) followed by 2x2 average pooling, in one stride-2 4x4 convolution:
/// x [N, C, H, W], weight [O, C, 3, 3], bias [O] -> [N, O, H/2, W/2] (floor), equal to
/// avgPool2d(conv2d(x, weight, bias, padding: 1), kernel: 2) up to the order of its sums.
///
/// Why: pooled output (i, j) averages conv outputs (2i+a, 2j+b), a, b in {0, 1}, and each of them
/// reads input rows 2i+a-1 ... 2i+a+1; together they read the 4x4 window from (2i-1, 2j-1), each
/// pixel through the taps that land on it, so the four 3x3 kernels shifted by (a, b) and averaged
/// are one 4x4 kernel applied at stride 2. That is 16/36 of the multiply-adds, an unfold of 16 taps
/// on the pooled grid instead of 9 on the full one, and no full-size conv output kept for the
/// pooling's backward pass. The discriminator's down-sampling blocks end this way.
///
/// Two ops, each with its backward pass (the kernel sums, `summedKernel`, and conv2d), so gradients and the
/// determinism of conv2d carry over.
public func conv2dAvgPool2x(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1]
                 && weight.shape[2] == 3 && weight.shape[3] == 3,
                 "conv2dAvgPool2x: input \(x.shape) does not fit a 3x3 weight \(weight.shape)")
    precondition(x.shape[2] >= 2 && x.shape[3] >= 2, "conv2dAvgPool2x: input \(x.shape) too small to pool")
    return conv2d(x, avgPoolKernels(weight), bias, stride: 2, padding: 1)
}

/// weight [O, C, 3, 3] -> [O, C, 4, 4]: K[u, v] = 1/4 of the sum of weight[u - a, v - b] over the
/// pooling offsets a, b in {0, 1} that keep the index inside the 3x3 kernel.
func avgPoolKernels(_ weight: Tensor) -> Tensor {
    let planes = weight.shape[0] * weight.shape[1]
    return summedKernel(weight, shape: [weight.shape[0], weight.shape[1], 4, 4], scale: 0.25) { forEachPooledTap(planes: planes, $0) }
}

/// body(entry, tap) for every (pooling offset, 3x3 tap) pair, in one fixed order: `entry` indexes
/// the kernels [O, C, 4, 4], `tap` the weight [O, C, 3, 3] (`planes` = O*C).
@inline(__always)
private func forEachPooledTap(planes: Int, _ body: (_ entry: Int, _ tap: Int) -> Void) {
    for plane in 0..<planes {
        for a in 0..<2 {
            for b in 0..<2 {
                for dy in 0..<3 {
                    for dx in 0..<3 { body(plane * 16 + (dy + a) * 4 + dx + b, plane * 9 + dy * 3 + dx) }
                }
            }
        }
    }
}
