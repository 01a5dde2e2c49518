/// Stochastic gradient descent with torch.optim.SGD's exact update:
///   g = grad + weightDecay * p
///   buf = g on a parameter's first step, else momentum * buf + (1 - dampening) * g
///   g = nesterov ? g + momentum * buf : buf          (when momentum != 0)
///   p -= lr * g
public final class SGD: Optimizer {
    public var lr: Float
    public let parameters: [Tensor]
    public let momentum: Float, dampening: Float, weightDecay: Float
    public let nesterov: Bool
    /// Momentum buffers, created on a parameter's first step with a gradient (torch's lazy state).
    var buffers: [Buffer?]

    public init(_ parameters: [Tensor], lr: Float, momentum: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, dampening: Float = 0) {
        precondition(!nesterov || (momentum > 0 && dampening == 0),
                     "SGD: Nesterov momentum requires a momentum and zero dampening")
        self.parameters = parameters
        self.lr = lr
        self.momentum = momentum; self.nesterov = nesterov
        self.weightDecay = weightDecay; self.dampening = dampening
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        let (lr, mom, wd, damp) = (lr, momentum, weightDecay, dampening)
        for (i, p) in parameters.enumerated() {
            guard let gb = p.grad else { continue }
            let x = p.ptr, g = gb.pointer, count = p.count
            if mom == 0 {
                for j in 0..<count { x[j] -= lr * (g[j] + wd * x[j]) }
                continue
            }
            let fresh = buffers[i] == nil
            let buf = buffers[i] ?? Buffer(count: count)
            buffers[i] = buf
            let b = buf.pointer
            for j in 0..<count {
                let d = g[j] + wd * x[j]
                b[j] = fresh ? d : mom * b[j] + (1 - damp) * d
                x[j] -= lr * (nesterov ? d + mom * b[j] : b[j])
            }
        }
    }
}
