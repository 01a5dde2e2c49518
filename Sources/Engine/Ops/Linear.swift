/// Fully connected layer as one GEMM: y = x W^T + b, with W laid out [out, in] as in PyTorch.
/// x [N, K], weight [M, K], bias [M] -> y [N, M].
public func linear(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
    precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
                 "linear: input \(x.shape) does not fit weight \(weight.shape)")
    let n = x.shape[0], k = x.shape[1], m = weight.shape[0]
    let out = Tensor(uninitialized: [n, m])
    let y = out.ptr
    if let bias {
        for i in 0..<n { (y + i * m).update(from: bias.ptr, count: m) }
        sgemm(transB: true, m: n, n: m, k: k, a: x.ptr, b: weight.ptr, beta: 1, c: y)
    } else {
        sgemm(transB: true, m: n, n: m, k: k, a: x.ptr, b: weight.ptr, c: y)
    }
    let parents = bias.map { [x, weight, $0] } ?? [x, weight]
    return out.withBackward(parents: parents) { out in
        let g = out.grad!.pointer
        if x.requiresGrad {       // dX [N, K] += dY W
            sgemm(m: n, n: k, k: m, a: g, b: weight.ptr, beta: 1, c: x.gradPtr)
        }
        if weight.requiresGrad {  // dW [M, K] += dY^T X
            sgemm(transA: true, m: m, n: k, k: n, a: g, b: x.ptr, beta: 1, c: weight.gradPtr)
        }
        if let bias, bias.requiresGrad {  // db [M] += column sums of dY
            let gb = bias.gradPtr
            for i in 0..<n { for j in 0..<m { gb[j] += g[i * m + j] } }
        }
    }
}

/// Plain matrix product: a [M, K] x b [K, N] -> [M, N].
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                 "matmul: \(a.shape) x \(b.shape)")
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    let out = Tensor(uninitialized: [m, n])
    sgemm(m: m, n: n, k: k, a: a.ptr, b: b.ptr, c: out.ptr)
    return out.withBackward(parents: [a, b]) { out in
        let g = out.grad!.pointer
        if a.requiresGrad { sgemm(transB: true, m: m, n: k, k: n, a: g, b: b.ptr, beta: 1, c: a.gradPtr) }  // dA += dY B^T
        if b.requiresGrad { sgemm(transA: true, m: k, n: n, k: m, a: a.ptr, b: g, beta: 1, c: b.gradPtr) }  // dB += A^T dY
    }
}
