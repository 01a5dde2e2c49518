import Foundation

/// Mean cross-entropy of logits [N, K] against class indices, fused with log-softmax so the
/// gradient is the stable (softmax - onehot) / N.
public func crossEntropy(_ logits: Tensor, labels: [Int]) -> Tensor {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count,
                 "crossEntropy: logits \(logits.shape) for \(labels.count) labels")
    let n = logits.shape[0], k = logits.shape[1]
    let probs = Buffer(count: n * k)
    let out = Tensor(uninitialized: [1])
    var total: Double = 0
    let x = logits.ptr, p = probs.pointer
    for i in 0..<n {
        precondition(labels[i] >= 0 && labels[i] < k, "label \(labels[i]) outside 0..<\(k)")
        let logZ = softmaxRow(x + i * k, into: p + i * k, count: k)
        total += Double(logZ - x[i * k + labels[i]])
    }
    out.ptr[0] = Float(total / Double(n))
    return out.withBackward(parents: [logits]) { out in
        let scale = out.grad!.pointer[0] / Float(n)
        let gx = logits.gradPtr, p = probs.pointer
        for i in 0..<n {
            for j in 0..<k { gx[i * k + j] += scale * p[i * k + j] }
            gx[i * k + labels[i]] -= scale
        }
    }
}

/// Mean cross-entropy against target distributions [N, K] (soft labels, distillation).
public func crossEntropy(_ logits: Tensor, soft targets: Tensor) -> Tensor {
    precondition(logits.shape == targets.shape && logits.rank == 2,
                 "crossEntropy: logits \(logits.shape) against targets \(targets.shape)")
    let n = logits.shape[0], k = logits.shape[1]
    let probs = Buffer(count: n * k)
    let out = Tensor(uninitialized: [1])
    var total: Double = 0
    let x = logits.ptr, p = probs.pointer, t = targets.ptr
    for i in 0..<n {
        let logZ = softmaxRow(x + i * k, into: p + i * k, count: k)
        for j in 0..<k where t[i * k + j] != 0 {
            total += Double(t[i * k + j] * (logZ - x[i * k + j]))
        }
    }
    out.ptr[0] = Float(total / Double(n))
    return out.withBackward(parents: [logits]) { out in
        let scale = out.grad!.pointer[0] / Float(n)
        let gx = logits.gradPtr, p = probs.pointer, t = targets.ptr
        for i in 0..<n {
            var mass: Float = 0
            for j in 0..<k { mass += t[i * k + j] }
            for j in 0..<k { gx[i * k + j] += scale * (mass * p[i * k + j] - t[i * k + j]) }
        }
    }
}

/// Writes softmax(x) into p and returns log-sum-exp(x), shifted by the max for stability.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, count k: Int) -> Float {
    var mx = -Float.infinity
    for j in 0..<k { mx = max(mx, x[j]) }
    var s: Float = 0
    for j in 0..<k { let e = expf(x[j] - mx); p[j] = e; s += e }
    let inv = 1 / s
    for j in 0..<k { p[j] *= inv }
    return mx + logf(s)
}
