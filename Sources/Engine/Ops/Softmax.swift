import Foundation

/// Softmax over the last axis (rows of a [N, K] tensor; any rank works, every leading axis is a row).
public func softmax(_ x: Tensor) -> Tensor {
    let (k, rows) = x.lastAxisRows("softmax")
    let out = Tensor(uninitialized: x.shape)
    for r in 0..<rows { _ = softmaxRow(x.ptr + r * k, into: out.ptr + r * k, count: k) }
    return out.withBackward(parents: [x]) { out in
        // dx = y * (g - <g, y>) per row.
        let g = out.grad!.pointer, y = out.ptr, gx = x.gradPtr
        for r in 0..<rows {
            let o = r * k
            var dot: Float = 0
            for j in 0..<k { dot += g[o + j] * y[o + j] }
            for j in 0..<k { gx[o + j] += y[o + j] * (g[o + j] - dot) }
        }
    }
}

/// Log-softmax over the last axis: x - logsumexp(x), stable for large logits.
public func logSoftmax(_ x: Tensor) -> Tensor {
    let (k, rows) = x.lastAxisRows("logSoftmax")
    let out = Tensor(uninitialized: x.shape)
    let xs = x.ptr, y = out.ptr
    for r in 0..<rows {
        let o = r * k
        let logZ = softmaxRow(xs + o, into: y + o, count: k)
        for j in 0..<k { y[o + j] = xs[o + j] - logZ }
    }
    return out.withBackward(parents: [x]) { out in
        // dx = g - softmax * sum(g) per row; softmax = exp(y).
        let g = out.grad!.pointer, y = out.ptr, gx = x.gradPtr
        for r in 0..<rows {
            let o = r * k
            var total: Float = 0
            for j in 0..<k { total += g[o + j] }
            for j in 0..<k { gx[o + j] += g[o + j] - Foundation.expf(y[o + j]) * total }
        }
    }
}
