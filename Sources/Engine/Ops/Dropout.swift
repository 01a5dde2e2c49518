import Support
/// Inverted dropout: in training each element is zeroed with probability p and the survivors are
/// scaled by 1/(1-p), so evaluation is the identity (which is also what p == 0 gives). One uniform
/// draw per element from `rng`, so a seeded generator reproduces the same mask. Same shape out.
public func dropout(_ x: Tensor, p: Float, training: Bool, rng: inout RNG) -> Tensor {
    precondition(p >= 0 && p <= 1, "dropout: probability \(p) outside [0, 1]")
    guard training && p > 0 else { return x }
    let keep = 1 - p
    let scale: Float = p < 1 ? 1 / keep : 0
    // The mask already holds 0 or 1/(1-p): forward and backward are one multiply each.
    let mask = Buffer(count: x.count)
    let mp = mask.pointer
    for i in 0..<x.count { mp[i] = rng.uniform() < keep ? scale : 0 }
    let out = Tensor(uninitialized: x.shape)
    let xs = x.ptr, y = out.ptr
    for i in 0..<x.count { y[i] = xs[i] * mp[i] }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, (gx, fresh) = x.gradientTarget(), mp = mask.pointer
        store(gx, count: x.count, overwrite: fresh) { g[$0] * mp[$0] }
    }
}
