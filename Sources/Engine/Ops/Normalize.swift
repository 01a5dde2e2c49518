/// Scales each row of [N, D] (the last axis of any rank) to unit Euclidean length:
/// y = x / max(||x||, eps), exactly F.normalize(x, p=2, dim=-1, eps). Rows shorter than eps are
/// divided by eps, and then (as in PyTorch) the norm does not take part in the gradient.
public func l2Normalize(_ x: Tensor, eps: Float = 1e-12) -> Tensor {
    let (d, rows) = x.lastAxisRows("l2Normalize")
    let denom = Buffer(count: rows)
    let out = Tensor(uninitialized: x.shape)
    let xs = x.ptr, y = out.ptr, dn = denom.pointer
    for r in 0..<rows {
        let o = r * d
        var ss: Float = 0
        for j in 0..<d { ss += xs[o + j] * xs[o + j] }
        let norm = Swift.max(ss.squareRoot(), eps)
        dn[r] = norm
        for j in 0..<d { y[o + j] = xs[o + j] / norm }
    }
    return out.withBackward(parents: [x]) { out in
        // Above eps: dx = (g - y <g, y>) / ||x||; at the eps floor: dx = g / eps.
        let g = out.grad!.pointer, y = out.ptr, gx = x.gradPtr, dn = denom.pointer
        for r in 0..<rows {
            let o = r * d, inv = 1 / dn[r]
            if dn[r] > eps {
                var dot: Float = 0
                for j in 0..<d { dot += g[o + j] * y[o + j] }
                for j in 0..<d { gx[o + j] += (g[o + j] - y[o + j] * dot) * inv }
            } else {
                for j in 0..<d { gx[o + j] += g[o + j] * inv }
            }
        }
    }
}
