/// x's entries `range` along `axis`, as a copy (the inverse of `concat`): e.g. the input-channel
/// columns [lo, hi) of a weight [O, I, kh, kw] with axis 1. The gradient is added back into that slab.
public func slice(_ x: Tensor, axis: Int, range: Range<Int>) -> Tensor {
    let axis = axis < 0 ? axis + x.rank : axis
    precondition(axis >= 0 && axis < x.rank, "slice: axis \(axis) of \(x.shape)")
    precondition(range.lowerBound >= 0 && range.upperBound <= x.shape[axis] && !range.isEmpty,
                 "slice: \(range) of \(x.shape[axis]) along axis \(axis)")
    let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
    // Per outer index, one contiguous run of `run` values out of a row of `total`.
    let total = x.shape[axis] * inner, run = range.count * inner, offset = range.lowerBound * inner
    var shape = x.shape
    shape[axis] = range.count
    let out = Tensor(uninitialized: shape)
    for o in 0..<outer { (out.ptr + o * run).update(from: x.ptr + o * total + offset, count: run) }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr
        for o in 0..<outer {
            let s = g + o * run, d = gx + o * total + offset
            for i in 0..<run { d[i] += s[i] }
        }
    }
}
