import Testing
import Engine
import Support

/// Finite-difference gradient check: L = sum(f(inputs) * r) for a fixed random r, the analytic
/// Float gradient from `backward` against Double central differences of L.
///
/// Inputs that do not require a gradient are held constant. `maxChecks` picks that many elements
/// per input at random (all of them when the input is small).
public func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 2e-3,
                    maxChecks: Int = 60, seed: UInt64 = 7,
                    sourceLocation: SourceLocation = #_sourceLocation,
                    _ f: ([Tensor]) -> Tensor) {
    var rng = RNG(seed: seed)
    let probe = Autodiff.withoutGrad { f(inputs) }
    let r = (0..<probe.count).map { _ in Double(rng.uniform() * 2 - 1) }
    let rTensor = Tensor(r.map(Float.init), shape: probe.shape)

    func loss() -> Double {
        let out = Autodiff.withoutGrad { f(inputs) }
        var s = 0.0
        for i in 0..<out.count { s += Double(out.ptr[i]) * r[i] }
        return s
    }

    for t in inputs { t.zeroGrad() }
    let out = f(inputs)
    #expect(out.requiresGrad, "output does not require grad", sourceLocation: sourceLocation)
    out.backward(seed: rTensor)

    for (which, t) in inputs.enumerated() where t.requiresGrad {
        let analytic = t.grad.map { Array($0.buffer) } ?? Array(repeating: 0, count: t.count)
        let picks = t.count <= maxChecks ? Array(0..<t.count) : Array(rng.permutation(t.count).prefix(maxChecks))
        var worst = 0.0
        for i in picks {
            let keep = t.ptr[i]
            t.ptr[i] = keep + eps
            let plus = loss()
            t.ptr[i] = keep - eps
            let minus = loss()
            t.ptr[i] = keep
            let numeric = (plus - minus) / (2 * Double(eps))
            let err = abs(numeric - Double(analytic[i]))
            worst = max(worst, err / (atol + rtol * abs(numeric)))
            #expect(err <= atol + rtol * abs(numeric),
                    "input \(which) element \(i): analytic \(analytic[i]) numeric \(numeric)",
                    sourceLocation: sourceLocation)
        }
        #expect(worst <= 1, sourceLocation: sourceLocation)
    }
}

/// A tensor of normal values that takes part in gradient checks.
public func randn(_ shape: [Int], seed: UInt64, scale: Float = 1, requiresGrad: Bool = true) -> Tensor {
    var rng = RNG(seed: seed)
    let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
    rng.fillNormal(t.ptr, count: t.count, std: scale)
    return t
}

/// Values kept at least `gap` away from zero, so kinks (ReLU, max) are not straddled by +-eps.
public func randnAwayFromZero(_ shape: [Int], seed: UInt64, gap: Float = 0.05) -> Tensor {
    let t = randn(shape, seed: seed)
    for i in 0..<t.count where abs(t.ptr[i]) < gap { t.ptr[i] = t.ptr[i] < 0 ? -gap - 0.05 : gap + 0.05 }
    return t
}
