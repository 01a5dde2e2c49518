import Foundation

/// Adam (Kingma & Ba) and, with `decoupledWeightDecay`, AdamW (Loshchilov & Hutter), with the
/// same update order as torch.optim.Adam / AdamW so runs are comparable.
public final class Adam: Optimizer {
    public var lr: Float
    public let parameters: [Tensor]
    let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    let decoupled: Bool
    var m: [Buffer], v: [Buffer]
    var t = 0

    public init(_ parameters: [Tensor], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.decoupled = decoupledWeightDecay
        m = parameters.map { Buffer.zeroed($0.count) }
        v = parameters.map { Buffer.zeroed($0.count) }
    }

    /// AdamW with PyTorch's default weight decay.
    public static func adamW(_ parameters: [Tensor], lr: Float = 1e-3, weightDecay: Float = 1e-2) -> Adam {
        Adam(parameters, lr: lr, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step() {
        t += 1
        let bc1 = 1 - powf(beta1, Float(t)), bc2 = 1 - powf(beta2, Float(t))
        let stepSize = lr / bc1
        let bc2Root = bc2.squareRoot()
        for (i, p) in parameters.enumerated() {
            guard let gb = p.grad else { continue }
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
