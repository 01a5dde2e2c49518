import Support
import Foundation

/// Elementwise y = f(x) whose derivative can be written from x and y; one pass each way, split
/// into one contiguous range per core for activation-sized tensors.
@inline(__always)
func unaryOp(_ x: Tensor, _ f: @escaping (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    let out = Tensor.result(x.shape, parents: [x]) { out in
        let g = out.grad!.pointer, (gx, fresh) = x.gradientTarget(), xs = x.ptr, ys = out.ptr
        inChunks(x.count) { r in
            if fresh {
                for i in r { gx[i] = g[i] * derivative(xs[i], ys[i]) }
            } else {
                for i in r { gx[i] += g[i] * derivative(xs[i], ys[i]) }
            }
        }
    }
    let xs = x.ptr, ys = out.ptr
    inChunks(x.count) { r in for i in r { ys[i] = f(xs[i]) } }
    return out
}

/// Splits 0..<n into fixed ranges of 32k elements, spread over the cores when there are several.
@inline(__always)
func inChunks(_ n: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forEachChunk(n, chunk: 1 << 15, work: n, body)
}

/// max(x, 0); its own loops rather than `unaryOp`'s closures, being on every layer of every net.
public func relu(_ x: Tensor) -> Tensor {
    let out = Tensor.result(x.shape, parents: [x]) { out in
        let g = out.grad!.pointer, (gx, fresh) = x.gradientTarget(), ys = out.ptr
        inChunks(x.count) { r in
            if fresh {
                for i in r { gx[i] = ys[i] > 0 ? g[i] : 0 }
            } else {
                for i in r where ys[i] > 0 { gx[i] += g[i] }
            }
        }
    }
    let xs = x.ptr, ys = out.ptr
    inChunks(x.count) { r in for i in r { ys[i] = Swift.max(xs[i], 0) } }
    return out
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
