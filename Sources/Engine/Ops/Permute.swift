/// Reorders the axes of a tensor (ONNX Transpose, numpy's transpose): output axis i is input axis
/// `order[i]`, so y.shape[i] = x.shape[order[i]]. Copies; the gradient is the inverse permutation.
public func permute(_ x: Tensor, _ order: [Int]) -> Tensor {
    let rank = x.rank
    precondition(order.count == rank && Set(order) == Set(0..<rank), "permute: order \(order) for \(x.shape)")
    let outShape = order.map { x.shape[$0] }
    let out = Tensor(uninitialized: outShape)
    // Strides of the input, read in output-axis order: walking the output row-major visits the
    // input at offset sum(index[i] * inStride[order[i]]).
    var inStrides = [Int](repeating: 1, count: rank)
    for d in stride(from: rank - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * x.shape[d + 1] }
    let walk = order.map { inStrides[$0] }
    permuteCopy(from: UnsafePointer(x.ptr), to: out.ptr, shape: outShape, sourceStrides: walk)
    return out.withBackward(parents: [x]) { out in
        // dX[offset(i)] += dY[i]: the same walk, adding into the source positions.
        permuteScatter(out.grad!.pointer, into: x.gradPtr, shape: outShape, targetStrides: walk)
    }
}

/// y[i] = x[offset(i)] for every output index i in row-major order.
private func permuteCopy(from x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, shape: [Int],
                         sourceStrides: [Int]) {
    forEachOffset(shape: shape, strides: sourceStrides) { i, o in y[i] = x[o] }
}

/// t[offset(i)] += g[i].
private func permuteScatter(_ g: UnsafeMutablePointer<Float>, into t: UnsafeMutablePointer<Float>, shape: [Int],
                            targetStrides: [Int]) {
    forEachOffset(shape: shape, strides: targetStrides) { i, o in t[o] += g[i] }
}

/// Calls body(i, offset) for i = 0..<count with offset = sum(index_d * strides[d]); the innermost
/// axis runs as a plain loop so the odometer costs one step per row.
@inline(__always)
private func forEachOffset(shape: [Int], strides: [Int], _ body: (Int, Int) -> Void) {
    let rank = shape.count
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    guard rank > 0 else { body(0, 0); return }
    let inner = shape[rank - 1], innerStride = strides[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var base = 0, i = 0
    while i < count {
        for j in 0..<inner { body(i + j, base + j * innerStride) }
        i += inner
        // Advance the odometer over the outer axes.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            base += strides[d]
            if index[d] < shape[d] { break }
            base -= strides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}
