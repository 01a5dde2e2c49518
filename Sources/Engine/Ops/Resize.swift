public enum ResizeMode: Sendable {
    /// PyTorch's mode='nearest' (not 'nearest-exact'): source = floor(dst * in/out).
    case nearest
    /// PyTorch's mode='bilinear', align_corners=False, antialias=False: two taps per axis at
    /// source = (dst + 0.5) * in/out - 0.5, clamped at 0, also when shrinking (no low-pass filter).
    case bilinear
}

/// Resizes the planes of [N, C, H, W] to [N, C, height, width], up or down, with the same source
/// positions and weights as PyTorch's F.interpolate(size=(height, width)).
public func resize(_ x: Tensor, height: Int, width: Int, mode: ResizeMode) -> Tensor {
    precondition(x.rank == 4 && height > 0 && width > 0, "resize: \(x.shape) to \(height)x\(width)")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    let rows = resizeTaps(input: h, output: height, mode: mode)
    let cols = resizeTaps(input: w, output: width, mode: mode)
    let out = Tensor(uninitialized: [x.shape[0], x.shape[1], height, width])
    let xs = x.ptr, ys = out.ptr
    parallelFor(planes, work: out.count) { p in
        let src = xs + p * h * w, dst = ys + p * height * width
        for oy in 0..<height {
            let r = rows[oy], s0 = src + r.i0 * w, s1 = src + r.i1 * w, dr = dst + oy * width
            for ox in 0..<width {
                let c = cols[ox]
                // PyTorch's summation order (rows outermost), so values agree to the last bit or so.
                dr[ox] = r.l0 * (c.l0 * s0[c.i0] + c.l1 * s0[c.i1]) + r.l1 * (c.l0 * s1[c.i0] + c.l1 * s1[c.i1])
            }
        }
    }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr
        parallelFor(planes, work: out.count) { p in
            let src = g + p * height * width, dst = gx + p * h * w
            for oy in 0..<height {
                let r = rows[oy], sr = src + oy * width
                let d0 = dst + r.i0 * w, d1 = dst + r.i1 * w
                for ox in 0..<width {
                    let c = cols[ox], v = sr[ox]
                    let top = r.l0 * v, bottom = r.l1 * v
                    d0[c.i0] += c.l0 * top; d0[c.i1] += c.l1 * top
                    d1[c.i0] += c.l0 * bottom; d1[c.i1] += c.l1 * bottom
                }
            }
        }
    }
}

/// The two source indices and weights of one output position along one axis. Nearest is the
/// special case l1 = 0 (i1 = i0), so both modes share one loop.
struct ResizeTap {
    var i0: Int, i1: Int, l0: Float, l1: Float
}

func resizeTaps(input: Int, output: Int, mode: ResizeMode) -> [ResizeTap] {
    // PyTorch's scale is a Float ratio; the source position is then formed in Double (its 0.5
    // literals are doubles) and only the fractional weight is rounded to Float. Matching that
    // order matters: Float arithmetic throughout differs in the sixth digit for ratios like 28/10.
    let scale = Float(input) / Float(output)
    return (0..<output).map { i in
        if output == input { return ResizeTap(i0: i, i1: i, l0: 1, l1: 0) }
        switch mode {
        case .nearest:
            let src = output == 2 * input ? i >> 1 : min(Int((Float(i) * scale).rounded(.down)), input - 1)
            return ResizeTap(i0: src, i1: src, l0: 1, l1: 0)
        case .bilinear:
            let real = max(Double(scale) * (Double(i) + 0.5) - 0.5, 0)
            let i0 = min(Int(real.rounded(.down)), input - 1)
            let lambda = Float(min(max(real - Double(i0), 0), 1))
            return ResizeTap(i0: i0, i1: i0 < input - 1 ? i0 + 1 : i0, l0: 1 - lambda, l1: lambda)
        }
    }
}
