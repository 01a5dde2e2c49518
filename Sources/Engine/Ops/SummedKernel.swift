/// A kernel of `shape` built from a weight by sums of its taps: every (entry, tap) pair that
/// `forEachPair` names adds `scale` * weight[tap] into kernel[entry], in the order it names them.
/// The backward pass sends each entry's gradient back along the same pairs, scaled alike.
/// The fused up- and down-sampling convolutions (`upsampleConv2d`, `conv2dAvgPool2x`) fold a 3x3
/// weight into the kernel their one conv2d runs.
func summedKernel(_ weight: Tensor, shape: [Int], scale: Float = 1,
                  _ forEachPair: @escaping (_ body: (_ entry: Int, _ tap: Int) -> Void) -> Void) -> Tensor {
    let out = Tensor(zeros: shape)
    let w = weight.ptr, k = out.ptr
    forEachPair { entry, tap in k[entry] += scale * w[tap] }
    return out.withBackward(parents: [weight]) { out in
        let g = out.grad!.pointer, gw = weight.gradPtr
        forEachPair { entry, tap in gw[tap] += scale * g[entry] }
    }
}
