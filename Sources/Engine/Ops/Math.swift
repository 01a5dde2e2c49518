import Foundation

/// An elementwise function of a tensor. Functions are types, not closures, so each op gets its
/// own specialised loops (the derivative runs once per element in every backward pass).
protocol UnaryKernel {
    static func value(_ x: Float) -> Float
    /// dy/dx, from the input x and the output y (whichever is cheaper).
    static func derivative(_ x: Float, _ y: Float) -> Float
}

func unary<K: UnaryKernel>(_ x: Tensor, _ kernel: K.Type) -> Tensor {
    let out = Tensor.result(x.shape, parents: [x]) { out in
        let g = out.grad!.pointer, (gx, fresh) = x.gradientTarget(), xs = x.ptr, ys = out.ptr
        store(gx, count: x.count, overwrite: fresh) { g[$0] * K.derivative(xs[$0], ys[$0]) }
    }
    let xs = x.ptr, ys = out.ptr
    for i in 0..<x.count { ys[i] = K.value(xs[i]) }
    return out
}

enum SqrtKernel: UnaryKernel {
    @inline(__always) static func value(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}

enum SquareKernel: UnaryKernel {
    @inline(__always) static func value(_ x: Float) -> Float { x * x }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { 2 * x }
}

enum ExpKernel: UnaryKernel {
    @inline(__always) static func value(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { y }
}

enum LogKernel: UnaryKernel {
    @inline(__always) static func value(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}

enum AbsKernel: UnaryKernel {
    @inline(__always) static func value(_ x: Float) -> Float { Swift.abs(x) }
    /// sign(x), 0 at 0 as in PyTorch.
    @inline(__always) static func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

/// Elementwise square root (gradient 1 / (2 sqrt x), infinite at 0 as in PyTorch).
public func sqrt(_ x: Tensor) -> Tensor { unary(x, SqrtKernel.self) }

/// Elementwise x * x.
public func square(_ x: Tensor) -> Tensor { unary(x, SquareKernel.self) }

/// Elementwise e^x.
public func exp(_ x: Tensor) -> Tensor { unary(x, ExpKernel.self) }

/// Elementwise natural logarithm.
public func log(_ x: Tensor) -> Tensor { unary(x, LogKernel.self) }

/// Elementwise |x|.
public func abs(_ x: Tensor) -> Tensor { unary(x, AbsKernel.self) }

/// Elementwise x^p (gradient p x^(p-1)). Squares and square roots take exact paths.
public func pow(_ x: Tensor, _ p: Float) -> Tensor {
    if p == 2 { return square(x) }
    if p == 1 { return affine(x, scale: 1, shift: 0) }
    let out = Tensor.result(x.shape, parents: [x]) { out in
        if p == 0 { return }
        let g = out.grad!.pointer, (gx, fresh) = x.gradientTarget(), xs = x.ptr, q = p - 1
        store(gx, count: x.count, overwrite: fresh) { g[$0] * p * Foundation.powf(xs[$0], q) }
    }
    let xs = x.ptr, ys = out.ptr
    if p == 0.5 {
        for i in 0..<x.count { ys[i] = xs[i].squareRoot() }
    } else {
        for i in 0..<x.count { ys[i] = Foundation.powf(xs[i], p) }
    }
    return out
}

/// Elementwise clamp to [min, max]; the gradient passes where min <= x <= max (PyTorch's rule).
public func clamp(_ x: Tensor, min lo: Float, max hi: Float) -> Tensor {
    precondition(lo <= hi, "clamp: min \(lo) above max \(hi)")
    let out = Tensor.result(x.shape, parents: [x]) { out in
        let g = out.grad!.pointer, (gx, fresh) = x.gradientTarget(), xs = x.ptr
        store(gx, count: x.count, overwrite: fresh) { xs[$0] >= lo && xs[$0] <= hi ? g[$0] : 0 }
    }
    let xs = x.ptr, ys = out.ptr
    for i in 0..<x.count { ys[i] = Swift.min(Swift.max(xs[i], lo), hi) }
    return out
}
