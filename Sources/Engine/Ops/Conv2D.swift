import Foundation

/// How many samples one column-matrix chunk (and one GEMM) covers.
///
/// Measured on ref-cnn-like layers: a GEMM wants a few thousand columns to run at full speed,
/// but a column matrix that spills out of the caches costs more to write and read back than a
/// wider GEMM saves; chunks of at most ~4096 columns and ~4 MB sit between. With fewer than 64 rows (first layers: 1-3 input channels) the
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
/// Chunks of samples (see `ConvChunking`) are unfolded into a column matrix
/// [Cin*kh*kw, samples*Ho*Wo] and multiplied by the weight in one GEMM. The backward pass reuses
/// that matrix for dW when the whole batch was one chunk, and skips dX and dW/dB for inputs that
/// do not require a gradient (frozen classifiers in CaG, the input images in training).
public func conv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
    conv2d(x, weight, bias, stride: stride, padding: padding, chunk: nil)
}

/// `chunk` overrides the samples per GEMM (tests cover every path with it; benchmarks tune it).
///
/// Threading: the batch is split into one lane per core (`Parallel.lanes`); each lane unfolds
/// and multiplies its own samples with single-threaded GEMMs in its own scratch buffers, and
/// accumulates its own weight-gradient partial (summed in lane order, so results are identical
/// run to run).
func conv2d(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, stride: Int, padding: Int, chunk: Int?) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && x.shape[1] == weight.shape[1],
                 "conv2d: input \(x.shape) does not fit weight \(weight.shape)")
    precondition(bias == nil || bias!.count == weight.shape[0], "conv2d: bias \(bias!.shape) for weight \(weight.shape)")
    precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) padding \(padding)")
    let n = x.shape[0], cin = x.shape[1], cout = weight.shape[0]
    let g = ConvGeometry(channels: cin, height: x.shape[2], width: x.shape[3],
                         kh: weight.shape[2], kw: weight.shape[3], stride: stride, padding: padding)
    precondition(x.shape[2] + 2 * padding >= g.kh && x.shape[3] + 2 * padding >= g.kw,
                 "conv2d: kernel \(weight.shape) larger than padded input \(x.shape)")
    let hw = g.positions, k = g.rows, inPlanes = cin * g.plane, outPlanes = cout * hw
    let lanes = Parallel.lanes(n)
    let perLane = (n + lanes - 1) / lanes
    let chunk = max(1, min(perLane, chunk ?? (g.isPointwise ? 1 : ConvChunking.samples(total: perLane, rows: k, positions: hw, permutes: true))))
    // A pointwise kernel on one sample needs no unfolding: the image is its own column matrix.
    let direct = chunk == 1 && g.isPointwise
    let colSpan = k * chunk * hw
    var kept: Buffer?

    let parents = bias.map { [x, weight, $0] } ?? [x, weight]
    let out = Tensor.result([n, cout, g.outH, g.outW], parents: parents) { out in
        let gy = out.grad!.pointer, w = weight.ptr
        let needW = weight.requiresGrad, needX = x.requiresGrad, needB = bias?.requiresGrad ?? false
        guard needW || needX || needB else { return }
        // Gradient buffers are created lazily; create them before any lane touches them.
        let gW = needW ? weight.gradPtr : nil, gX = needX ? x.gradPtr : nil, gB = needB ? bias!.gradPtr : nil
        let keptCol = kept
        let colBuf = needW && keptCol == nil && !direct ? Buffer(count: lanes * colSpan) : nil
        let dcol = needX && !direct ? Buffer(count: lanes * colSpan) : nil
        let gyBatch = chunk > 1 ? Buffer(count: lanes * cout * chunk * hw) : nil
        // Lanes other than the first accumulate weight and bias gradients privately, summed after.
        let partials = lanes > 1 ? Buffer.zeroed((lanes - 1) * (cout * k + cout)) : nil
        withExtendedLifetime((colBuf, dcol, gyBatch, partials, keptCol)) {
            Parallel.inLanes(lanes, items: n) { lane, samples in
                let own = partials.map { $0.pointer + (lane - 1) * (cout * k + cout) }
                let laneW = lane == 0 || gW == nil ? gW : own
                let laneB = lane == 0 || gB == nil ? gB : own.map { $0 + cout * k }
                if let laneB { addChannelSums(gy + samples.lowerBound * outPlanes, samples: samples.count, channels: cout, hw: hw, into: laneB) }
                guard needW || needX else { return }
                for start in Swift.stride(from: samples.lowerBound, to: samples.upperBound, by: chunk) {
                    let nb = min(chunk, samples.upperBound - start), cols = nb * hw
                    let xs = x.ptr + start * inPlanes
                    let gys: UnsafePointer<Float>
                    if let gyBatch {
                        let p = gyBatch.pointer + lane * cout * chunk * hw
                        batchToChannelMajor(gy + start * outPlanes, samples: nb, channels: cout, hw: hw, into: p)
                        gys = UnsafePointer(p)
                    } else {
                        gys = UnsafePointer(gy + start * outPlanes)
                    }
                    if let laneW {  // dW += dY col^T
                        let col: UnsafePointer<Float>
                        if direct {
                            col = UnsafePointer(xs)
                        } else if let keptCol {
                            col = UnsafePointer(keptCol.pointer + lane * colSpan)
                        } else {
                            let p = colBuf!.pointer + lane * colSpan
                            im2col(xs, samples: nb, g, into: p)
                            col = UnsafePointer(p)
                        }
                        sgemm(transB: true, m: cout, n: k, k: cols, a: gys, b: col, beta: 1, c: laneW)
                    }
                    if let gX {  // dcol = W^T dY, folded back onto the pixels
                        let gx = gX + start * inPlanes
                        if direct {
                            sgemm(transA: true, m: k, n: cols, k: cout, a: w, b: gys, beta: 1, c: gx)
                        } else {
                            let p = dcol!.pointer + lane * colSpan
                            sgemm(transA: true, m: k, n: cols, k: cout, a: w, b: gys, c: p)
                            col2im(p, samples: nb, g, addingInto: gx)
                        }
                    }
                }
            }
            if let partials {
                for lane in 1..<lanes {
                    let p = partials.pointer + (lane - 1) * (cout * k + cout)
                    if let gW { for i in 0..<cout * k { gW[i] += p[i] } }
                    if let gB { for i in 0..<cout { gB[i] += p[cout * k + i] } }
                }
            }
        }
        kept = nil
    }

    // dW needs each lane's column matrix again; keep them when every lane was a single chunk.
    let keep = out.requiresGrad && weight.requiresGrad && chunk >= perLane && !direct
    let col = direct ? nil : Buffer(count: lanes * colSpan)
    let outBatch = chunk > 1 ? Buffer(count: lanes * cout * chunk * hw) : nil
    let w = weight.ptr, ys = out.ptr
    withExtendedLifetime((col, outBatch)) {
        Parallel.inLanes(lanes, items: n) { lane, samples in
            for start in Swift.stride(from: samples.lowerBound, to: samples.upperBound, by: chunk) {
                let nb = min(chunk, samples.upperBound - start), cols = nb * hw
                let xs = x.ptr + start * inPlanes, y = ys + start * outPlanes
                let colPtr: UnsafePointer<Float>
                if let col {
                    let p = col.pointer + lane * colSpan
                    im2col(xs, samples: nb, g, into: p)
                    colPtr = UnsafePointer(p)
                } else {
                    colPtr = UnsafePointer(xs)
                }
                if let outBatch {
                    let ob = outBatch.pointer + lane * cout * chunk * hw
                    sgemm(m: cout, n: cols, k: k, a: w, b: colPtr, c: ob)
                    channelMajorToBatch(ob, samples: nb, channels: cout, hw: hw, bias: bias?.ptr, into: y)
                } else if let bias {
                    for c in 0..<cout { (y + c * hw).update(repeating: bias.ptr[c], count: hw) }
                    sgemm(m: cout, n: cols, k: k, a: w, b: colPtr, beta: 1, c: y)
                } else {
                    sgemm(m: cout, n: cols, k: k, a: w, b: colPtr, c: y)
                }
            }
        }
    }
    if keep { kept = col }
    return out
}

