/// Moves each sample of x [N, C, H, W] by its own whole-pixel offset, filling what comes in from
/// outside with `value`: y[n, c, i, j] = x[n, c, i - dy_n, j - dx_n] where that lies inside, else
/// `value`. The shape is kept (pixels moved past the edge are dropped). DiffAugment's translation
/// of D's inputs; the gradient flows back to the input pixels that stay in the picture.
public func translate2d(_ x: Tensor, shifts: [(dy: Int, dx: Int)], value: Float = 0) -> Tensor {
    precondition(x.rank == 4, "translate2d: \(x.shape) is not NCHW")
    precondition(shifts.count == x.shape[0], "translate2d: \(shifts.count) shifts for \(x.shape[0]) samples")
    let c = x.shape[1], h = x.shape[2], w = x.shape[3], plane = h * w
    let out = Tensor(filled: value, shape: x.shape)
    // Per sample: the output rows [r0, r1) and columns [c0, c1) that hold input pixels.
    func window(_ s: (dy: Int, dx: Int)) -> (r0: Int, r1: Int, c0: Int, c1: Int) {
        (max(0, s.dy), min(h, h + s.dy), max(0, s.dx), min(w, w + s.dx))
    }
    let xs = x.ptr, ys = out.ptr
    for (n, s) in shifts.enumerated() {
        let (r0, r1, c0, c1) = window(s)
        guard r1 > r0 && c1 > c0 else { continue }
        for p in (n * c)..<((n + 1) * c) {
            for r in r0..<r1 {
                (ys + p * plane + r * w + c0).update(from: xs + p * plane + (r - s.dy) * w + (c0 - s.dx), count: c1 - c0)
            }
        }
    }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr
        for (n, s) in shifts.enumerated() {
            let (r0, r1, c0, c1) = window(s)
            guard r1 > r0 && c1 > c0 else { continue }
            for p in (n * c)..<((n + 1) * c) {
                for r in r0..<r1 {
                    let src = g + p * plane + r * w + c0, dst = gx + p * plane + (r - s.dy) * w + (c0 - s.dx)
                    for j in 0..<(c1 - c0) { dst[j] += src[j] }
                }
            }
        }
    }
}
