/// Mean squared error of pred against target over the elements where mask != 0, shape [1].
///
/// The mask has pred's shape or broadcasts to it (e.g. [N,1,H,W] against [N,C,H,W]: one mask per
/// pixel shared by its channels); the mean divides by the number of selected elements after
/// broadcasting, so a masked pixel counts once per channel. With nothing selected the loss is 0.
/// Equals ((pred - target)^2 * m).sum() / m.expand_as(pred).sum() for a 0/1 mask m.
public func maskedMSE(_ pred: Tensor, _ target: Tensor, mask: Tensor) -> Tensor {
    precondition(pred.shape == target.shape, "maskedMSE: prediction \(pred.shape) against target \(target.shape)")
    let plan = BroadcastPlan(pred.shape, mask.shape, op: "maskedMSE")
    precondition(plan.shape == pred.shape, "maskedMSE: mask \(mask.shape) does not broadcast to \(pred.shape)")
    let n = plan.inner, sm = plan.innerStrideB

    var total = 0.0, selected = 0
    let p = pred.ptr, t = target.ptr, mk = mask.ptr
    plan.forEachRow { op, om, _ in
        var acc: Float = 0
        if sm == 1 {
            for j in 0..<n where mk[om + j] != 0 {
                let d = p[op + j] - t[op + j]
                acc += d * d
                selected += 1
            }
        } else if mk[om] != 0 {
            for j in 0..<n { let d = p[op + j] - t[op + j]; acc += d * d }
            selected += n
        }
        total += Double(acc)
    }
    let count = selected
    let out = Tensor(uninitialized: [1])
    out.ptr[0] = count > 0 ? Float(total / Double(count)) : 0
    return out.withBackward(parents: [pred, target]) { out in
        guard count > 0 else { return }
        let k = 2 * out.grad!.pointer[0] / Float(count)
        let p = pred.ptr, t = target.ptr, mk = mask.ptr
        for (which, sign) in [(pred, Float(1)), (target, Float(-1))] where which.requiresGrad {
            let gw = which.gradPtr, ks = sign * k
            plan.forEachRow { op, om, _ in
                if sm == 1 {
                    for j in 0..<n where mk[om + j] != 0 { gw[op + j] += ks * (p[op + j] - t[op + j]) }
                } else if mk[om] != 0 {
                    for j in 0..<n { gw[op + j] += ks * (p[op + j] - t[op + j]) }
                }
            }
        }
    }
}
