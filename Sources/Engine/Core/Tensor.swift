/// A dense Float32 tensor in row-major (NCHW for images) layout, and a node of the autodiff tape.
///
/// A tensor made by an op remembers its parents and a backward closure (`node`); `backward()` on a
/// scalar walks that graph in reverse topological order. Leaves with `requiresGrad` (parameters,
/// or an input image CaG optimises) keep their accumulated `grad` after the walk.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let storage: Buffer
    /// Gradient of the last `backward()` root with respect to this tensor, same shape.
    public var grad: Buffer?
    public var requiresGrad: Bool
    /// Parents and the closure that pushes `grad` into them; nil for leaves and constants.
    var node: Node?

    struct Node {
        let parents: [Tensor]
        /// Receives the output tensor (not captured, so the graph holds no reference cycle).
        let backward: (Tensor) -> Void
    }

    public init(shape: [Int], storage: Buffer, requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match \(storage.count) values")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// Uninitialised values (the caller writes every element).
    public convenience init(uninitialized shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: Buffer(count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, storage: .zeroed(shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    public convenience init(filled value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(uninitialized: shape, requiresGrad: requiresGrad)
        ptr.update(repeating: value, count: count)
    }

    public convenience init(_ values: [Float], shape: [Int], requiresGrad: Bool = false) {
        self.init(uninitialized: shape, requiresGrad: requiresGrad)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { ptr.update(from: $0.baseAddress!, count: count) }
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    public var ptr: UnsafeMutablePointer<Float> { storage.pointer }
    public var values: UnsafeMutableBufferPointer<Float> { storage.buffer }
    public var array: [Float] { Array(storage.buffer) }
    public subscript(_ i: Int) -> Float {
        get { ptr[i] }
        set { ptr[i] = newValue }
    }

    /// The value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item of a tensor with \(count) values")
        return ptr[0]
    }

    /// The gradient buffer, created zeroed on first use; ops accumulate into it.
    public var gradPtr: UnsafeMutablePointer<Float> {
        if let g = grad { return g.pointer }
        let g = Buffer.zeroed(count)
        grad = g
        return g.pointer
    }

    public func zeroGrad() { grad = nil }

    /// A new leaf sharing nothing with the graph: the same values, no history.
    public func detached() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.ptr.update(from: ptr, count: count)
        return t
    }

    /// Shape helpers for NCHW tensors.
    public var n: Int { shape[0] }
    public var c: Int { shape[1] }
    public var h: Int { shape[2] }
    public var w: Int { shape[3] }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = (0..<min(count, 8)).map { String(ptr[$0]) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(head)\(count > 8 ? ", ..." : "")])"
    }
}
