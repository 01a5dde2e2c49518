extension Tensor {
    /// A view with another shape over the same values (no copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let i = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            dims[i] = count / max(known, 1)
        }
        precondition(dims.reduce(1, *) == count, "reshape \(shape) to \(newShape)")
        let src = self
        return Tensor(shape: dims, storage: storage).withBackward(parents: [src]) { out in
            let g = out.grad!.pointer, gs = src.gradPtr
            for i in 0..<src.count { gs[i] += g[i] }
        }
    }

    /// The last axis as rows: (its length, how many rows every leading axis makes), for ops
    /// that work along the last axis of any rank.
    func lastAxisRows(_ op: StaticString) -> (length: Int, rows: Int) {
        precondition(rank >= 1, "\(op) of a scalar")
        let length = shape[rank - 1]
        return (length, count / Swift.max(length, 1))
    }

    /// [N, ...] to [N, rest].
    public func flattened() -> Tensor { reshaped([shape[0], count / shape[0]]) }
}
