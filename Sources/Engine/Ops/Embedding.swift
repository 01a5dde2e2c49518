/// Rows of a lookup table: weight [V, D] and N indices give [N, D]; the gradient of each row is
/// scattered back (summed where an index repeats), as nn.functional.embedding.
public func embedding(_ weight: Tensor, _ indices: [Int]) -> Tensor {
    precondition(weight.rank == 2, "embedding: table \(weight.shape) is not [V, D]")
    let v = weight.shape[0], d = weight.shape[1]
    for i in indices { precondition(i >= 0 && i < v, "embedding: index \(i) outside 0..<\(v)") }
    let out = Tensor(uninitialized: [indices.count, d])
    for (r, i) in indices.enumerated() {
        (out.ptr + r * d).update(from: weight.ptr + i * d, count: d)
    }
    return out.withBackward(parents: [weight]) { out in
        let g = out.grad!.pointer, gw = weight.gradPtr
        for (r, i) in indices.enumerated() {
            let src = g + r * d, dst = gw + i * d
            for j in 0..<d { dst[j] += src[j] }
        }
    }
}
