import Foundation

/// The activations, as `UnaryKernel`s whose loops split over the cores: they run on every layer
/// of every net, on activation-sized tensors.

/// max(x, 0).
public func relu(_ x: Tensor) -> Tensor { unary(x, ReluKernel()) }

struct ReluKernel: UnaryKernel {
    static var splitsOverCores: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { y > 0 ? g : 0 }
    /// Adds nothing where the unit is off: no load-add-store for the (about half) inactive units.
    @inline(__always) func accumulate(_ gx: inout Float, _ g: Float, _ x: Float, _ y: Float) { if y > 0 { gx += g } }
}

/// x for x > 0, slope * x below.
public func leakyRelu(_ x: Tensor, slope: Float = 0.2) -> Tensor { unary(x, LeakyReluKernel(slope: slope)) }

struct LeakyReluKernel: UnaryKernel {
    static var splitsOverCores: Bool { true }
    let slope: Float
    @inline(__always) func value(_ x: Float) -> Float { x > 0 ? x : slope * x }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (x > 0 ? 1 : slope) }
}

public func tanh(_ x: Tensor) -> Tensor { unary(x, TanhKernel()) }

struct TanhKernel: UnaryKernel {
    static var splitsOverCores: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { Foundation.tanhf(x) }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (1 - y * y) }
}

public func sigmoid(_ x: Tensor) -> Tensor { unary(x, SigmoidKernel()) }

struct SigmoidKernel: UnaryKernel {
    static var splitsOverCores: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { 1 / (1 + Foundation.expf(-x)) }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g * (y * (1 - y)) }
}
