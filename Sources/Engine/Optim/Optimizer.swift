/// Updates parameters from their accumulated gradients; `lr` may be changed between steps by a
/// schedule. Parameters without a gradient (unused in this step) are left as they are.
public protocol Optimizer: AnyObject {
    var lr: Float { get set }
    var parameters: [Tensor] { get }
    func step()
}

extension Optimizer {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}
