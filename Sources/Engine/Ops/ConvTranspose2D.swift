/// Transposed 2-D convolution (the adjoint of conv2d, as PyTorch's conv_transpose2d):
/// x [N, Cin, H, W], weight [Cin, Cout, kh, kw], bias [Cout] -> [N, Cout, Ho, Wo] with
/// Ho = (H - 1)*stride - 2*padding + kh + outputPadding.
///
/// Forward is conv2d's data gradient: one GEMM spreads every input pixel into a column matrix
/// [Cout*kh*kw, N*H*W], which is folded onto the output. Backward unfolds the output gradient
/// (conv2d's forward) and multiplies it by the weight for dX and by the input for dW.
public func convTranspose2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?,
                            stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) -> Tensor {
    convTranspose2d(x, weight, bias, stride: stride, padding: padding, outputPadding: outputPadding, chunk: nil)
}

func convTranspose2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: Int, padding: Int,
                     outputPadding: Int, chunk: Int?) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && x.shape[1] == weight.shape[0],
                 "convTranspose2d: input \(x.shape) does not fit weight \(weight.shape)")
    precondition(bias == nil || bias!.count == weight.shape[1],
                 "convTranspose2d: bias \(bias!.shape) for weight \(weight.shape)")
    precondition(stride >= 1 && padding >= 0 && outputPadding >= 0 && outputPadding < stride,
                 "convTranspose2d: stride \(stride) padding \(padding) outputPadding \(outputPadding)")
    let n = x.shape[0], cin = x.shape[1], h = x.shape[2], w = x.shape[3]
    let cout = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
    let outH = (h - 1) * stride - 2 * padding + kh + outputPadding
    let outW = (w - 1) * stride - 2 * padding + kw + outputPadding
    precondition(outH > 0 && outW > 0, "convTranspose2d: empty output for input \(x.shape), weight \(weight.shape)")
    // The sweep of the equivalent conv2d running from the output back to the input.
    let g = ConvGeometry(channels: cout, height: outH, width: outW, kh: kh, kw: kw,
                         stride: stride, padding: padding, outH: h, outW: w)
    let hw = h * w, k = g.rows, outPlanes = cout * g.plane
    let chunk = max(1, min(n, chunk ?? ConvChunking.samples(total: n, rows: k, positions: hw, permutes: false)))

    let parents = bias.map { [x, weight, $0] } ?? [x, weight]
    let out = Tensor(uninitialized: [n, cout, outH, outW])

    // Forward: per chunk of nb samples, col [k, nb*hw] = W^T [k, cin] x [cin, nb*hw], folded onto y.
    let col = Buffer(count: k * chunk * hw)
    let xBatch = chunk > 1 ? Buffer(count: cin * chunk * hw) : nil
    out.ptr.update(repeating: 0, count: out.count)
    withExtendedLifetime((col, xBatch)) {
        for start in Swift.stride(from: 0, to: n, by: chunk) {
            let nb = min(chunk, n - start), cols = nb * hw
            let xs = channelMajorInput(x, from: start, samples: nb, channels: cin, hw: hw, scratch: xBatch)
            sgemm(transA: true, m: k, n: cols, k: cin, a: weight.ptr, b: xs, c: col.pointer)
            col2im(col.pointer, samples: nb, g, addingInto: out.ptr + start * outPlanes)
        }
    }
    if let bias {
        let plane = g.plane
        for i in 0..<n * cout {
            let b = bias.ptr[i % cout], p = out.ptr + i * plane
            for j in 0..<plane { p[j] += b }
        }
    }
    // Backward: dcol = im2col(dY) [k, nb*hw]; dW += x dcol^T, dX += W dcol, dB += channel sums of dY.
    return out.withBackward(parents: parents) { out in
        let gy = out.grad!.pointer
        if let bias, bias.requiresGrad {
            addChannelSums(gy, samples: n, channels: cout, hw: g.plane, into: bias.gradPtr)
        }
        guard x.requiresGrad || weight.requiresGrad else { return }
        let dcol = Buffer(count: k * chunk * hw)
        let xBatch = chunk > 1 ? Buffer(count: cin * chunk * hw) : nil
        withExtendedLifetime((dcol, xBatch)) {
            for start in Swift.stride(from: 0, to: n, by: chunk) {
                let nb = min(chunk, n - start), cols = nb * hw
                im2col(gy + start * outPlanes, samples: nb, g, into: dcol.pointer)
                if weight.requiresGrad {  // dW += X dcol^T
                    let xs = channelMajorInput(x, from: start, samples: nb, channels: cin, hw: hw, scratch: xBatch)
                    sgemm(transB: true, m: cin, n: k, k: cols, a: xs, b: dcol.pointer, beta: 1, c: weight.gradPtr)
                }
                if x.requiresGrad {  // dX = W dcol
                    let gx = x.gradPtr + start * cin * hw
                    if let xBatch {
                        sgemm(m: cin, n: cols, k: k, a: weight.ptr, b: dcol.pointer, c: xBatch.pointer)
                        channelMajorToBatch(xBatch.pointer, samples: nb, channels: cin, hw: hw, accumulate: true, into: gx)
                    } else {
                        sgemm(m: cin, n: cols, k: k, a: weight.ptr, b: dcol.pointer, beta: 1, c: gx)
                    }
                }
            }
        }
    }
}

/// Samples [start, start + samples) of x [N, C, hw] as the [C, samples*hw] matrix a GEMM takes:
/// x itself for one sample, else permuted into `scratch` (there whenever samples can exceed 1).
private func channelMajorInput(_ x: Tensor, from start: Int, samples: Int, channels: Int, hw: Int,
                               scratch: Buffer?) -> UnsafePointer<Float> {
    let src = x.ptr + start * channels * hw
    guard let scratch else { return UnsafePointer(src) }
    batchToChannelMajor(src, samples: samples, channels: channels, hw: hw, into: scratch.pointer)
    return UnsafePointer(scratch.pointer)
}
