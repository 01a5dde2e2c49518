/// Max pooling over kernel x kernel windows (no padding; stride defaults to the kernel):
/// [N, C, H, W] -> [N, C, (H - kernel)/stride + 1, (W - kernel)/stride + 1], as PyTorch's
/// F.max_pool2d. Of tied values the first in row-major order wins, and so takes the gradient.
public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil) -> Tensor {
    let (planes, h, w, s, oh, ow) = poolGeometry(x, kernel: kernel, stride: stride, op: "maxPool2d")
    precondition(h * w < 1 << 24, "maxPool2d: plane \(h)x\(w) too large")
    let out = Tensor(uninitialized: [x.shape[0], x.shape[1], oh, ow])
    // The winner's offset inside its input plane, per output element, for the backward pass;
    // held as Float (exact below 2^24) so it lives in a pooled buffer.
    let argmax = Autodiff.shouldRecord([x]) ? Buffer(count: out.count) : nil
    let idx = argmax?.pointer
    let xs = x.ptr, ys = out.ptr
    parallelFor(planes, work: x.count) { p in
        let src = xs + p * h * w, dst = ys + p * oh * ow
        let ip = idx.map { $0 + p * oh * ow }
        if kernel == 2 && s == 2 {
            // ref-cnn's pool: two rows at a time, no inner window loop, selects instead of
            // branches (random data mispredicts every other comparison).
            for oy in 0..<oh {
                let r0 = src + 2 * oy * w, r1 = r0 + w, o = dst + oy * ow
                if let ip {
                    let io = ip + oy * ow
                    for ox in 0..<ow {
                        let a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1]
                        let top = 2 * oy * w + 2 * ox
                        let tb = b > a
                        var best = tb ? b : a, at = tb ? top + 1 : top
                        let tc = c > best; best = tc ? c : best; at = tc ? top + w : at
                        let td = d > best; best = td ? d : best; at = td ? top + w + 1 : at
                        o[ox] = best
                        io[ox] = Float(at)
                    }
                } else {
                    for ox in 0..<ow {
                        o[ox] = max(max(r0[2 * ox], r0[2 * ox + 1]), max(r1[2 * ox], r1[2 * ox + 1]))
                    }
                }
            }
        } else {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let top = oy * s * w + ox * s
                    var best = src[top], at = top
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            let j = top + ky * w + kx
                            if src[j] > best { best = src[j]; at = j }
                        }
                    }
                    dst[oy * ow + ox] = best
                    ip?[oy * ow + ox] = Float(at)
                }
            }
        }
    }
    return out.withBackward(parents: [x]) { out in
        guard let argmax else { return }
        let g = out.grad!.pointer, idx = argmax.pointer
        // Non-overlapping windows that tile the plane (ref-cnn's 2x2 pools) cover every input
        // once: a fresh gradient is written in one pass, winners and zeros, with no memset first.
        let (gx, fresh) = kernel == s && h % s == 0 && w % s == 0 ? x.gradientTarget() : (x.gradPtr, false)
        parallelFor(planes, work: x.count) { p in
            let gp = gx + p * h * w, go = g + p * oh * ow, ip = idx + p * oh * ow
            if fresh { gp.update(repeating: 0, count: h * w) }
            for i in 0..<oh * ow { gp[Int(ip[i])] += go[i] }
        }
    }
}

/// Average pooling over kernel x kernel windows (no padding; stride defaults to the kernel),
/// as PyTorch's F.avg_pool2d.
public func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil) -> Tensor {
    let (planes, h, w, s, oh, ow) = poolGeometry(x, kernel: kernel, stride: stride, op: "avgPool2d")
    let scale = 1 / Float(kernel * kernel)
    let out = Tensor(uninitialized: [x.shape[0], x.shape[1], oh, ow])
    let xs = x.ptr, ys = out.ptr
    parallelFor(planes, work: x.count) { p in
        let src = xs + p * h * w, dst = ys + p * oh * ow
        for oy in 0..<oh {
            for ox in 0..<ow {
                let top = oy * s * w + ox * s
                var sum: Float = 0
                for ky in 0..<kernel {
                    for kx in 0..<kernel { sum += src[top + ky * w + kx] }
                }
                dst[oy * ow + ox] = sum * scale
            }
        }
    }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr
        parallelFor(planes, work: x.count) { p in
            let gp = gx + p * h * w, go = g + p * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let v = go[oy * ow + ox] * scale, top = oy * s * w + ox * s
                    for ky in 0..<kernel {
                        for kx in 0..<kernel { gp[top + ky * w + kx] += v }
                    }
                }
            }
        }
    }
}

/// Mean over each channel's plane: [N, C, H, W] -> [N, C].
public func globalAveragePool(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "globalAveragePool: \(x.shape) is not NCHW")
    let planes = x.shape[0] * x.shape[1], hw = x.shape[2] * x.shape[3]
    let scale = 1 / Float(hw)
    let out = Tensor(uninitialized: [x.shape[0], x.shape[1]])
    let xs = x.ptr, ys = out.ptr
    for p in 0..<planes {
        ys[p] = spatialSum(xs + p * hw, hw) * scale
    }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr
        for p in 0..<planes {
            let v = g[p] * scale, gp = gx + p * hw
            for i in 0..<hw { gp[i] += v }
        }
    }
}

/// The window sweep both poolings share: (N*C planes, H, W, stride, Ho, Wo) of x [N, C, H, W].
private func poolGeometry(_ x: Tensor, kernel: Int, stride: Int?, op: StaticString)
    -> (planes: Int, h: Int, w: Int, stride: Int, oh: Int, ow: Int) {
    let s = stride ?? kernel
    precondition(x.rank == 4 && kernel >= 1 && s >= 1 && x.shape[2] >= kernel && x.shape[3] >= kernel,
                 "\(op): kernel \(kernel) stride \(s) on \(x.shape)")
    let h = x.shape[2], w = x.shape[3]
    return (x.shape[0] * x.shape[1], h, w, s, (h - kernel) / s + 1, (w - kernel) / s + 1)
}
