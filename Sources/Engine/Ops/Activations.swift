/// Elementwise y = f(x) whose derivative can be written from x and y; one pass each way.
@inline(__always)
func unaryOp(_ x: Tensor, _ f: (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    let out = Tensor.result(x.shape, parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr, xs = x.ptr, ys = out.ptr
        for i in 0..<x.count { gx[i] += g[i] * derivative(xs[i], ys[i]) }
    }
    let xs = x.ptr, ys = out.ptr
    for i in 0..<x.count { ys[i] = f(xs[i]) }
    return out
}

public func relu(_ x: Tensor) -> Tensor {
    unaryOp(x, { max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 })
}

public func leakyRelu(_ x: Tensor, slope: Float = 0.2) -> Tensor {
    unaryOp(x, { $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
}

public func tanh(_ x: Tensor) -> Tensor {
    unaryOp(x, { Foundation.tanhf($0) }, derivative: { _, y in 1 - y * y })
}

public func sigmoid(_ x: Tensor) -> Tensor {
    unaryOp(x, { 1 / (1 + Foundation.expf(-$0)) }, derivative: { _, y in y * (1 - y) })
}

import Foundation
