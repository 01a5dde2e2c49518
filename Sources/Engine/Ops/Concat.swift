/// Joins tensors along `axis` (channels of NCHW by default); all other dimensions must agree.
/// The gradient is split back into the pieces.
public func concat(_ xs: [Tensor], axis: Int = 1) -> Tensor {
    precondition(!xs.isEmpty, "concat of no tensors")
    let first = xs[0].shape
    let axis = axis < 0 ? axis + first.count : axis
    precondition(axis >= 0 && axis < first.count, "concat: axis \(axis) of \(first)")
    for t in xs {
        precondition(t.rank == first.count && (0..<first.count).allSatisfy { $0 == axis || t.shape[$0] == first[$0] },
                     "concat: \(t.shape) does not fit \(first) along axis \(axis)")
    }
    let outer = first[..<axis].reduce(1, *), inner = first[(axis + 1)...].reduce(1, *)
    // Each piece contributes one contiguous run of `run` values per outer index.
    let runs = xs.map { $0.shape[axis] * inner }
    let total = runs.reduce(0, +)
    var shape = first
    shape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }

    let out = Tensor(uninitialized: shape)
    var offset = 0
    for (t, run) in zip(xs, runs) {
        for o in 0..<outer {
            (out.ptr + o * total + offset).update(from: t.ptr + o * run, count: run)
        }
        offset += run
    }
    return out.withBackward(parents: xs) { out in
        let g = out.grad!.pointer
        var offset = 0
        for (t, run) in zip(xs, runs) {
            if t.requiresGrad {
                let gt = t.gradPtr
                for o in 0..<outer {
                    let s = g + o * total + offset, d = gt + o * run
                    for i in 0..<run { d[i] += s[i] }
                }
            }
            offset += run
        }
    }
}
