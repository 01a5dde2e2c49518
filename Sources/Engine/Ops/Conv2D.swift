import Support
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

    /// The sample groups a conv2d cuts its batch into: each group unfolds and multiplies its own
    /// samples and keeps its own weight-gradient partial. Fixed by the problem (at most two
    /// groups, each of at least ~1024 output columns, so a small batch stays one GEMM), never by
    /// the core count: on 1, 2 or 3 threads every GEMM has the same shape and every sum the same
    /// order. Two groups fill the two cores of the machines synth runs on, and cut a training
    /// batch exactly as the shipped classifiers were trained (two lanes of half a batch).
    static let maxGroups = 2
    static let minGroupColumns = 1024
    static func groups(samples n: Int, positions hw: Int) -> Int {
        max(1, min(n, maxGroups, n * hw / minGroupColumns))
    }
    /// The forward pass keeps every group's column matrix for dW when they fit in this many floats.
    static let keptFloats = 2 * targetFloats
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
/// Threading: the batch is cut into `ConvChunking.groups` sample groups, a cut fixed by the problem
/// (see `Parallel`); each group unfolds and multiplies its own samples with single-threaded GEMMs
/// in its thread's scratch buffers and accumulates its own weight-gradient partial. Group 0 adds
/// straight into the gradient, the others' partials are added after it in group order, so the
/// bytes are the same on any number of threads, nested or not.
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
    let groups = ConvChunking.groups(samples: n, positions: hw)
    let perGroup = (n + groups - 1) / groups
    let chunk = max(1, min(perGroup, chunk ?? (g.isPointwise ? 1 : ConvChunking.samples(total: perGroup, rows: k, positions: hw, permutes: true))))
    // A pointwise kernel on one sample needs no unfolding: the image is its own column matrix.
    let direct = chunk == 1 && g.isPointwise
    let colSpan = k * chunk * hw
    let work = n * k * hw  // elements unfolded: whether threads pay (never what they compute)
    let out = Tensor(uninitialized: [n, cout, g.outH, g.outW])

    // Forward: per group and chunk, col = im2col(x) [k, nb*hw], y [cout, nb*hw] = W [cout, k] col.
    // dW needs each group's column matrix again; keep them when every group was a single chunk
    // and together they are small.
    let parents = bias.map { [x, weight, $0] } ?? [x, weight]
    let keep = Autodiff.shouldRecord(parents) && weight.requiresGrad && chunk >= perGroup && !direct
        && groups * colSpan <= ConvChunking.keptFloats
    let threads = Parallel.workers(groups, work: work)
    let col = direct ? nil : Buffer(count: (keep ? groups : threads) * colSpan)
    let outBatch = chunk > 1 ? Buffer(count: threads * cout * chunk * hw) : nil
    let w = weight.ptr, ys = out.ptr
    withExtendedLifetime((col, outBatch)) {
        Parallel.forEach(groups, work: work) { group, thread in
            let samples = Parallel.part(group, of: groups, items: n)
            for start in Swift.stride(from: samples.lowerBound, to: samples.upperBound, by: chunk) {
                let nb = min(chunk, samples.upperBound - start), cols = nb * hw
                let xs = x.ptr + start * inPlanes, y = ys + start * outPlanes
                let colPtr: UnsafePointer<Float>
                if let col {
                    let p = col.pointer + (keep ? group : thread) * colSpan
                    im2col(xs, samples: nb, g, into: p)
                    colPtr = UnsafePointer(p)
                } else {
                    colPtr = UnsafePointer(xs)
                }
                if let outBatch {
                    let ob = outBatch.pointer + thread * cout * chunk * hw
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
    let keptCol = keep ? col : nil

    // Backward: dB from the output gradient's channel sums, dW += dY col^T, dX = col2im(W^T dY),
    // group by group as the forward pass cut the batch.
    return out.withBackward(parents: parents) { out in
        let gy = out.grad!.pointer, w = weight.ptr
        let needW = weight.requiresGrad, needX = x.requiresGrad, needB = bias?.requiresGrad ?? false
        guard needW || needX || needB else { return }
        // Gradient buffers are created lazily; create them before any thread touches them.
        let gW = needW ? weight.gradPtr : nil, gX = needX ? x.gradPtr : nil, gB = needB ? bias!.gradPtr : nil
        let threads = Parallel.workers(groups, work: work)
        let colBuf = needW && keptCol == nil && !direct ? Buffer(count: threads * colSpan) : nil
        let dcol = needX && !direct ? Buffer(count: threads * colSpan) : nil
        let gyBatch = chunk > 1 ? Buffer(count: threads * cout * chunk * hw) : nil
        // Groups other than the first accumulate weight and bias gradients privately, summed after.
        let partialSpan = cout * k + cout
        let partials = groups > 1 && (needW || needB) ? Buffer.zeroed((groups - 1) * partialSpan) : nil
        withExtendedLifetime((colBuf, dcol, gyBatch, partials, keptCol)) {
            Parallel.forEach(groups, work: work) { group, thread in
                let samples = Parallel.part(group, of: groups, items: n)
                let own = partials.map { $0.pointer + (group - 1) * partialSpan }
                let groupW = group == 0 || gW == nil ? gW : own
                let groupB = group == 0 || gB == nil ? gB : own.map { $0 + cout * k }
                if let groupB { addChannelSums(gy + samples.lowerBound * outPlanes, samples: samples.count, channels: cout, hw: hw, into: groupB) }
                guard needW || needX else { return }
                for start in Swift.stride(from: samples.lowerBound, to: samples.upperBound, by: chunk) {
                    let nb = min(chunk, samples.upperBound - start), cols = nb * hw
                    let xs = x.ptr + start * inPlanes
                    let gys: UnsafePointer<Float>
                    if let gyBatch {
                        let p = gyBatch.pointer + thread * cout * chunk * hw
                        batchToChannelMajor(gy + start * outPlanes, samples: nb, channels: cout, hw: hw, into: p)
                        gys = UnsafePointer(p)
                    } else {
                        gys = UnsafePointer(gy + start * outPlanes)
                    }
                    if let groupW {  // dW += dY col^T
                        let col: UnsafePointer<Float>
                        if direct {
                            col = UnsafePointer(xs)
                        } else if let keptCol {
                            col = UnsafePointer(keptCol.pointer + group * colSpan)
                        } else {
                            let p = colBuf!.pointer + thread * colSpan
                            im2col(xs, samples: nb, g, into: p)
                            col = UnsafePointer(p)
                        }
                        sgemm(transB: true, m: cout, n: k, k: cols, a: gys, b: col, beta: 1, c: groupW)
                    }
                    if let gX {  // dcol = W^T dY, folded back onto the pixels
                        let gx = gX + start * inPlanes
                        if direct {
                            sgemm(transA: true, m: k, n: cols, k: cout, a: w, b: gys, beta: 1, c: gx)
                        } else {
                            let p = dcol!.pointer + thread * colSpan
                            sgemm(transA: true, m: k, n: cols, k: cout, a: w, b: gys, c: p)
                            col2im(p, samples: nb, g, addingInto: gx)
                        }
                    }
                }
            }
            if let partials {
                for group in 1..<groups {
                    let p = partials.pointer + (group - 1) * partialSpan
                    if let gW { for i in 0..<cout * k { gW[i] += p[i] } }
                    if let gB { for i in 0..<cout { gB[i] += p[cout * k + i] } }
                }
            }
        }
    }
}

