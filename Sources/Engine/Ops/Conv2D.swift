/// How many samples one column-matrix chunk (and one GEMM) covers.
///
/// Measured on ref-cnn-like layers (2 cores, OpenBLAS): a GEMM wants a few thousand columns
/// before OpenBLAS's two threads run at full speed, but a column matrix that spills out of the
/// caches costs more to write and read back than a wider GEMM saves; chunks of at most ~4096
/// columns and ~4 MB sit between. With fewer than 64 rows (first layers: 1-3 input channels) the
/// GEMM is cheap next to the [Cout, N*HW] -> NCHW permute a multi-sample chunk needs, so each
/// sample gets its own GEMM writing straight into the output; pointwise kernels do the same and
/// skip the unfold too.
enum ConvChunking {
    static let targetColumns = 4096
    static let targetFloats = 1 << 20
    static let perSampleBelowRows = 64

    /// `permutes`: whether a multi-sample chunk costs a layout permute of the output (conv2d)
    /// or not (convTranspose2d, whose fold writes NCHW directly).
    static func samples(total n: Int, rows k: Int, positions hw: Int, permutes: Bool) -> Int {
        if permutes && k < perSampleBelowRows { return 1 }
        let wanted = min((targetColumns + hw - 1) / hw, targetFloats / max(k * hw, 1))
        return max(1, min(n, wanted))
    }
}

/// 2-D convolution (cross-correlation, as PyTorch): x [N, Cin, H, W], weight [Cout, Cin, kh, kw],
/// bias [Cout] -> [N, Cout, Ho, Wo] with Ho = (H + 2*padding - kh) / stride + 1.
///
/// The batch (in chunks bounded by `ConvChunking`) is unfolded into one column matrix
/// [Cin*kh*kw, N*Ho*Wo] and multiplied by the weight in one GEMM. The backward pass reuses that
/// matrix for dW when the forward pass kept it, and skips dX and dW/dB for inputs that do not
/// require a gradient (frozen classifiers in CaG, the input images in training).
public func conv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
    conv2d(x, weight, bias, stride: stride, padding: padding, chunk: nil)
}

/// `chunk` overrides the samples per GEMM (tests cover every path with it; benchmarks tune it).
func conv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: Int, padding: Int, chunk: Int?) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && x.shape[1] == weight.shape[1],
                 "conv2d: input \(x.shape) does not fit weight \(weight.shape)")
    precondition(bias == nil || bias!.count == weight.shape[0], "conv2d: bias \(bias!.shape) for weight \(weight.shape)")
    precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) padding \(padding)")
    let n = x.shape[0], cin = x.shape[1], cout = weight.shape[0]
    let g = ConvGeometry(channels: cin, height: x.shape[2], width: x.shape[3],
                         kh: weight.shape[2], kw: weight.shape[3], stride: stride, padding: padding)
    precondition(g.outH > 0 && g.outW > 0, "conv2d: kernel \(weight.shape) larger than padded input \(x.shape)")
    let hw = g.positions, k = g.rows, inPlanes = cin * g.plane
    let chunk = min(n, chunk ?? (g.isPointwise ? 1 : ConvChunking.samples(total: n, rows: k, positions: hw, permutes: true)))
    // A pointwise kernel on one sample needs no unfolding: the image is its own column matrix.
    let direct = chunk == 1 && g.isPointwise
    var kept: Buffer?

    let parents = bias.map { [x, weight, $0] } ?? [x, weight]
    let out = Tensor.result([n, cout, g.outH, g.outW], parents: parents) { out in
        let gy = out.grad!.pointer, w = weight.ptr
        if let bias, bias.requiresGrad {
            addChannelSums(gy, samples: n, channels: cout, hw: hw, into: bias.gradPtr)
        }
        guard x.requiresGrad || weight.requiresGrad else { return }
        let gyBatch = chunk > 1 ? Buffer(count: cout * chunk * hw) : nil
        let colBuf = weight.requiresGrad && kept == nil && !direct ? Buffer(count: k * chunk * hw) : nil
        let dcol = x.requiresGrad && !direct ? Buffer(count: k * chunk * hw) : nil
        withExtendedLifetime((gyBatch, colBuf, dcol, kept)) {
            for start in Swift.stride(from: 0, to: n, by: chunk) {
                let nb = min(chunk, n - start), cols = nb * hw
                let xs = x.ptr + start * inPlanes
                let gys: UnsafePointer<Float>
                if let gyBatch {
                    batchToChannelMajor(gy + start * cout * hw, samples: nb, channels: cout, hw: hw, into: gyBatch.pointer)
                    gys = UnsafePointer(gyBatch.pointer)
                } else {
                    gys = UnsafePointer(gy + start * cout * hw)
                }
                if weight.requiresGrad {  // dW += dY col^T
                    let col: UnsafePointer<Float>
                    if direct {
                        col = UnsafePointer(xs)
                    } else if let kept {
                        col = UnsafePointer(kept.pointer)
                    } else {
                        im2col(xs, samples: nb, g, into: colBuf!.pointer)
                        col = UnsafePointer(colBuf!.pointer)
                    }
                    sgemm(transB: true, m: cout, n: k, k: cols, a: gys, b: col, beta: 1, c: weight.gradPtr)
                }
                if x.requiresGrad {  // dcol = W^T dY, folded back onto the pixels
                    let gx = x.gradPtr + start * inPlanes
                    if direct {
                        sgemm(transA: true, m: k, n: cols, k: cout, a: w, b: gys, beta: 1, c: gx)
                    } else {
                        sgemm(transA: true, m: k, n: cols, k: cout, a: w, b: gys, c: dcol!.pointer)
                        col2im(dcol!.pointer, samples: nb, g, addingInto: gx)
                    }
                }
            }
        }
        kept = nil
    }

    // dW needs the column matrix again; keep it when the whole batch fit in one chunk.
    let keep = out.requiresGrad && weight.requiresGrad && chunk == n && !direct
    let col = direct ? nil : Buffer(count: k * chunk * hw)
    let outBatch = chunk > 1 ? Buffer(count: cout * chunk * hw) : nil
    let w = weight.ptr
    withExtendedLifetime((col, outBatch)) {
        for start in Swift.stride(from: 0, to: n, by: chunk) {
            let nb = min(chunk, n - start), cols = nb * hw
            let xs = x.ptr + start * inPlanes, ys = out.ptr + start * cout * hw
            let colPtr: UnsafePointer<Float>
            if let col {
                im2col(xs, samples: nb, g, into: col.pointer)
                colPtr = UnsafePointer(col.pointer)
            } else {
                colPtr = UnsafePointer(xs)
            }
            if let outBatch {
                sgemm(m: cout, n: cols, k: k, a: w, b: colPtr, c: outBatch.pointer)
                channelMajorToBatch(outBatch.pointer, samples: nb, channels: cout, hw: hw, bias: bias?.ptr, into: ys)
            } else if let bias {
                for c in 0..<cout { (ys + c * hw).update(repeating: bias.ptr[c], count: hw) }
                sgemm(m: cout, n: cols, k: k, a: w, b: colPtr, beta: 1, c: ys)
            } else {
                sgemm(m: cout, n: cols, k: k, a: w, b: colPtr, c: ys)
            }
        }
    }
    if keep { kept = col }
    return out
}
