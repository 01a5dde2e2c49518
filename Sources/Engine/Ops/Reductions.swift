/// The sum of every element, shape [1] (accumulated in Double: losses sum large tensors).
public func sum(_ x: Tensor) -> Tensor {
    reduceAll(x, scale: 1)
}

/// The mean of every element, shape [1].
public func mean(_ x: Tensor) -> Tensor {
    reduceAll(x, scale: 1 / Float(x.count))
}

func reduceAll(_ x: Tensor, scale: Float) -> Tensor {
    let out = Tensor(uninitialized: [1])
    var s = 0.0
    let xs = x.ptr
    for i in 0..<x.count { s += Double(xs[i]) }
    out.ptr[0] = Float(s * Double(scale))
    return out.withBackward(parents: [x]) { out in
        let gv = out.grad!.pointer[0] * scale, gx = x.gradPtr
        for i in 0..<x.count { gx[i] += gv }
    }
}

/// Where a reduction over `axes` of `shape` leaves its results.
struct ReductionShape {
    /// `shape` with the reduced axes set to 1: the layout the results are computed in.
    let kept: [Int]
    /// What the caller gets: `kept`, or `kept` without the reduced axes ([1] if none remain).
    let result: [Int]
    /// Elements folded into each result.
    let groupSize: Int
    let plan: BroadcastPlan

    init(_ shape: [Int], axes: [Int], keepDims: Bool, op: StaticString) {
        var reduced = Set<Int>()
        for a in axes {
            let axis = a < 0 ? a + shape.count : a
            precondition(axis >= 0 && axis < shape.count, "\(op): axis \(a) outside a rank-\(shape.count) tensor")
            // Not inside the precondition: -Ounchecked drops the condition with its side effect.
            let isNew = reduced.insert(axis).inserted
            precondition(isNew, "\(op): axis \(a) given twice")
        }
        kept = shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        let squeezed = shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        result = keepDims ? kept : (squeezed.isEmpty ? [1] : squeezed)
        groupSize = reduced.reduce(1) { $0 * shape[$1] }
        // The input plays the full operand A, the results the broadcast operand B.
        plan = BroadcastPlan(shape, kept, op: op)
    }
}

/// Adds every element of x into its group's slot of r (r zeroed by the caller).
@inline(__always)
func sumInto(_ r: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, _ plan: BroadcastPlan) {
    let n = plan.inner, sr = plan.innerStrideB
    plan.forEachRow { ox, or, _ in
        let xs = x + ox, rs = r + or
        if sr == 1 {
            for j in 0..<n { rs[j] += xs[j] }
        } else {
            var acc: Float = 0
            for j in 0..<n { acc += xs[j] }
            rs[0] += acc
        }
    }
}

/// gx += scale * g broadcast back over the reduced axes.
@inline(__always)
func broadcastInto(_ gx: UnsafeMutablePointer<Float>, from g: UnsafePointer<Float>, scale: Float, _ plan: BroadcastPlan) {
    let n = plan.inner, sr = plan.innerStrideB
    plan.forEachRow { ox, or, _ in
        let gxs = gx + ox, gs = g + or
        if sr == 1 {
            for j in 0..<n { gxs[j] += scale * gs[j] }
        } else {
            let v = scale * gs[0]
            for j in 0..<n { gxs[j] += v }
        }
    }
}

/// Sum over `axes` (negative axes count from the end), like torch.sum(x, dim=axes, keepdim:).
public func sum(_ x: Tensor, axes: [Int], keepDims: Bool = false) -> Tensor {
    reduce(x, axes: axes, keepDims: keepDims, mean: false, op: "sum")
}

/// Mean over `axes`, like torch.mean(x, dim=axes, keepdim:).
public func mean(_ x: Tensor, axes: [Int], keepDims: Bool = false) -> Tensor {
    reduce(x, axes: axes, keepDims: keepDims, mean: true, op: "mean")
}

func reduce(_ x: Tensor, axes: [Int], keepDims: Bool, mean: Bool, op: StaticString) -> Tensor {
    let rs = ReductionShape(x.shape, axes: axes, keepDims: keepDims, op: op)
    let scale: Float = mean ? 1 / Float(rs.groupSize) : 1
    let plan = rs.plan
    let out = Tensor(uninitialized: rs.result)
    out.ptr.update(repeating: 0, count: out.count)
    sumInto(out.ptr, from: x.ptr, plan)
    if mean { for i in 0..<out.count { out.ptr[i] *= scale } }
    return out.withBackward(parents: [x]) { out in
        broadcastInto(x.gradPtr, from: out.grad!.pointer, scale: scale, plan)
    }
}

/// Variance over `axes`: biased (divide by n, the default here and in batch norm) or unbiased
/// (n - 1, torch.var's default — pass `unbiased: true` to match torch.var(x, dim)).
public func variance(_ x: Tensor, axes: [Int], keepDims: Bool = false, unbiased: Bool = false) -> Tensor {
    let rs = ReductionShape(x.shape, axes: axes, keepDims: keepDims, op: "variance")
    let plan = rs.plan
    let groups = x.count / Swift.max(rs.groupSize, 1)
    let divisor = Float(rs.groupSize - (unbiased ? 1 : 0))
    // Two passes (mean, then squared deviations) so large offsets do not cancel.
    let mu = Buffer.zeroed(groups)
    sumInto(mu.pointer, from: x.ptr, plan)
    let invN = 1 / Float(rs.groupSize)
    for i in 0..<groups { mu.pointer[i] *= invN }

    let out = Tensor(uninitialized: rs.result)
    let v = out.ptr, xs = x.ptr, m = mu.pointer
    v.update(repeating: 0, count: groups)
    let n = plan.inner, sr = plan.innerStrideB
    plan.forEachRow { ox, or, _ in
        if sr == 1 {
            for j in 0..<n { let d = xs[ox + j] - m[or + j]; v[or + j] += d * d }
        } else {
            let mv = m[or]
            var acc: Float = 0
            for j in 0..<n { let d = xs[ox + j] - mv; acc += d * d }
            v[or] += acc
        }
    }
    let inv = 1 / divisor
    for i in 0..<groups { v[i] *= inv }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr, xs = x.ptr, m = mu.pointer
        let n = plan.inner, sr = plan.innerStrideB, k = 2 / divisor
        plan.forEachRow { ox, or, _ in
            if sr == 1 {
                for j in 0..<n { gx[ox + j] += k * g[or + j] * (xs[ox + j] - m[or + j]) }
            } else {
                let c = k * g[or], mv = m[or]
                for j in 0..<n { gx[ox + j] += c * (xs[ox + j] - mv) }
            }
        }
    }
}
