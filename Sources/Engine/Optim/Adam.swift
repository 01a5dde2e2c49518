import Foundation

/// Adam (Kingma & Ba) and, with `decoupledWeightDecay`, AdamW (Loshchilov & Hutter), with the
/// same update order as torch.optim.Adam / AdamW so runs are comparable.
public final class Adam: Optimizer {
    public var lr: Float
    public let parameters: [Tensor]
    let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    let decoupled: Bool
    var m: [Buffer], v: [Buffer]
    /// Steps taken per parameter: torch counts them per parameter, so one that had no gradient
    /// in some steps gets its own bias correction.
    var steps: [Int]

    public init(_ parameters: [Tensor], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.decoupled = decoupledWeightDecay
        m = parameters.map { Buffer.zeroed($0.count) }
        v = parameters.map { Buffer.zeroed($0.count) }
        steps = Array(repeating: 0, count: parameters.count)
    }

    /// AdamW with PyTorch's default weight decay.
    public static func adamW(_ parameters: [Tensor], lr: Float = 1e-3, weightDecay: Float = 1e-2) -> Adam {
        Adam(parameters, lr: lr, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step() {
        for (i, p) in parameters.enumerated() {
            guard let gb = p.grad else { continue }
            steps[i] += 1
            // Bias corrections in Double, as torch computes them from Python floats.
            let t = Double(steps[i])
            let bc1 = 1 - Foundation.pow(Double(beta1), t), bc2 = 1 - Foundation.pow(Double(beta2), t)
            let stepSize = Float(Double(lr) / bc1)
            let bc2Root = Float(bc2.squareRoot())
            let x = p.ptr, g = gb.pointer, mp = m[i].pointer, vp = v[i].pointer
            let (b1, b2, e, wd, lr) = (beta1, beta2, eps, weightDecay, lr)
            if decoupled && wd != 0 {
                let f = 1 - lr * wd
                for j in 0..<p.count { x[j] *= f }
            }
            for j in 0..<p.count {
                var gj = g[j]
                if !decoupled && wd != 0 { gj += wd * x[j] }
                mp[j] = b1 * mp[j] + (1 - b1) * gj
                vp[j] = b2 * vp[j] + (1 - b2) * gj * gj
                x[j] -= stepSize * mp[j] / (vp[j].squareRoot() / bc2Root + e)
            }
        }
    }
}
