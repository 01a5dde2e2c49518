import Foundation

/// The math functions, as `UnaryKernel`s run in one pass on the calling thread.

/// Elementwise square root (gradient 1 / (2 sqrt x), infinite at 0 as in PyTorch).
public func sqrt(_ x: Tensor) -> Tensor { unary(x, SqrtKernel()) }

struct SqrtKernel: UnaryKernel {
    @inline(__always) func value(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (0.5 / y) }
}

/// Elementwise x * x.
public func square(_ x: Tensor) -> Tensor { unary(x, SquareKernel()) }

struct SquareKernel: UnaryKernel {
    @inline(__always) func value(_ x: Float) -> Float { x * x }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (2 * x) }
}

/// Elementwise e^x.
public func exp(_ x: Tensor) -> Tensor { unary(x, ExpKernel()) }

struct ExpKernel: UnaryKernel {
    @inline(__always) func value(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * y }
}

/// Elementwise natural logarithm.
public func log(_ x: Tensor) -> Tensor { unary(x, LogKernel()) }

struct LogKernel: UnaryKernel {
    @inline(__always) func value(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (1 / x) }
}

/// Elementwise |x|.
public func abs(_ x: Tensor) -> Tensor { unary(x, AbsKernel()) }

struct AbsKernel: UnaryKernel {
    @inline(__always) func value(_ x: Float) -> Float { Swift.abs(x) }
    /// g * sign(x), 0 at 0 as in PyTorch.
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (x > 0 ? 1 : (x < 0 ? -1 : 0)) }
}

/// Elementwise x^p (gradient p x^(p-1)). Squares and square roots take exact paths.
public func pow(_ x: Tensor, _ p: Float) -> Tensor {
    if p == 2 { return square(x) }
    if p == 1 { return affine(x, scale: 1, shift: 0) }
    // x^0 is 1 everywhere (powf's rule, NaN included) and sends no gradient back; the output
    // still records its input, as PyTorch's does.
    if p == 0 { return Tensor(filled: 1, shape: x.shape).withBackward(parents: [x]) { _ in } }
    return unary(x, PowerKernel(exponent: p))
}

struct PowerKernel: UnaryKernel {
    let exponent: Float
    let lowered: Float
    init(exponent: Float) { self.exponent = exponent; lowered = exponent - 1 }
    @inline(__always) func value(_ x: Float) -> Float { exponent == 0.5 ? x.squareRoot() : Foundation.powf(x, exponent) }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * exponent * Foundation.powf(x, lowered) }
}

/// Elementwise clamp to [min, max]; the gradient passes where min <= x <= max (PyTorch's rule).
public func clamp(_ x: Tensor, min lo: Float, max hi: Float) -> Tensor {
    precondition(lo <= hi, "clamp: min \(lo) above max \(hi)")
    return unary(x, ClampKernel(lo: lo, hi: hi))
}

struct ClampKernel: UnaryKernel {
    let lo: Float, hi: Float
    @inline(__always) func value(_ x: Float) -> Float { Swift.min(Swift.max(x, lo), hi) }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { x >= lo && x <= hi ? g : 0 }
}
