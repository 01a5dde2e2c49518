import Engine
import Foundation

/// One node's computation once its attributes are read and its constant inputs prepared:
/// inputs in the node's order (nil for an omitted optional input), outputs in the node's order.
typealias ONNXKernel = ([ONNXValue?]) throws -> [ONNXValue]

/// What mapping a node onto Engine ops can see: the node, its attributes, the model's opset and
/// the inputs already known at import (initialisers, Constant nodes and everything folded from them).
struct ONNXNodeContext {
    let node: Onnx_NodeProto
    let opset: Int
    var attributes: ONNXAttributes
    let constants: [String: ONNXValue]

    init(node: Onnx_NodeProto, opset: Int, constants: [String: ONNXValue]) {
        self.node = node; self.opset = opset; self.constants = constants
        attributes = ONNXAttributes(node)
    }

    /// Input `i` when it is present and known at import.
    func constant(_ i: Int) -> ONNXValue? {
        guard i < node.input.count, !node.input[i].isEmpty else { return nil }
        return constants[node.input[i]]
    }

    func hasInput(_ i: Int) -> Bool { i < node.input.count && !node.input[i].isEmpty }

    /// Integer data of input `i`, which must be known at import (axes, pads, shapes given as inputs).
    func constantInts(_ i: Int, _ what: String) throws -> [Int]? {
        guard hasInput(i) else { return nil }
        guard let v = constant(i) else { throw ONNXProblem("its \(what) (input \(i + 1)) must be a constant") }
        switch v {
        case .int(let values, _): return values
        case .float: throw ONNXProblem("its \(what) (input \(i + 1)) is float data, not integers")
        }
    }

    /// A float scalar input known at import (Clip's bounds).
    func constantScalar(_ i: Int, _ what: String) throws -> Float? {
        guard hasInput(i) else { return nil }
        guard let v = constant(i) else { throw ONNXProblem("its \(what) (input \(i + 1)) must be a constant") }
        guard v.count == 1 else { throw ONNXProblem("its \(what) (input \(i + 1)) is not a scalar") }
        return v.asFloat.ptr[0]
    }

    /// Float data of input `i`, which must be known at import (weights).
    func constantFloat(_ i: Int, _ what: String) throws -> Tensor {
        guard hasInput(i) else { throw ONNXProblem("needs its \(what) (input \(i + 1))") }
        guard let v = constant(i) else {
            throw ONNXProblem("its \(what) '\(node.input[i])' is computed in the graph; synth needs it as an initialiser (a frozen weight)")
        }
        return v.asFloat
    }
}

/// The operators synth maps onto Engine ops, by ONNX op type.
enum ONNXOperators {
    static let supported: [String] = [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "Conv", "ConvTranspose",
        "Div", "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity",
        "LeakyRelu", "MatMul", "MaxPool", "Mul", "Relu", "Reshape", "Shape", "Sigmoid", "Slice", "Softmax",
        "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    ]

    /// Maps one node; `batchNorm` receives each BatchNormalization's layer (the batch-norm prior
    /// observes its input through it). Throws naming what is missing.
    static func compile(_ ctx: inout ONNXNodeContext, batchNorm: (BatchNorm) -> Void) throws -> ONNXKernel {
        let kernel: ONNXKernel
        switch ctx.node.opType {
        case "Conv": kernel = try ONNXConvolution.conv(&ctx)
        case "ConvTranspose": kernel = try ONNXConvolution.convTranspose(&ctx)
        case "BatchNormalization": kernel = try batchNormalization(&ctx, batchNorm)
        case "MaxPool", "AveragePool": kernel = try ONNXPooling.pool(&ctx)
        case "GlobalAveragePool": kernel = ONNXPooling.globalAverage()
        case "Gemm": kernel = try gemm(&ctx)
        case "MatMul": kernel = try matMul(&ctx)
        case "Relu": kernel = unaryFloat { relu($0) }
        case "Sigmoid": kernel = unaryFloat { sigmoid($0) }
        case "Tanh": kernel = unaryFloat { tanh($0) }
        case "LeakyRelu":
            let alpha = try ctx.attributes.float("alpha", default: 0.01)
            kernel = unaryFloat { leakyRelu($0, slope: alpha) }
        case "HardSigmoid":
            let alpha = try ctx.attributes.float("alpha", default: 0.2), beta = try ctx.attributes.float("beta", default: 0.5)
            kernel = unaryFloat { clamp($0 * alpha + beta, min: 0, max: 1) }
        case "HardSwish":
            // x * HardSigmoid(x) with alpha 1/6, beta 1/2 (the operator's definition).
            kernel = unaryFloat { $0 * clamp($0 * (1 / 6) + 0.5, min: 0, max: 1) }
        case "Clip": kernel = try clip(&ctx)
        case "Softmax": kernel = try softmaxKernel(&ctx)
        case "Identity": kernel = { [try present($0, 0)] }
        case "Dropout":
            // Inference: the identity. A mask output or a training-mode input would need training.
            guard ctx.node.output.count < 2 || ctx.node.output[1].isEmpty else { throw ONNXProblem("its mask output is not supported (inference only)") }
            if let t = try ctx.constantInts(2, "training_mode"), t.first == 1 { throw ONNXProblem("runs in training mode; export the model in eval mode") }
            _ = ctx.attributes.has("seed"); _ = try ctx.attributes.float("ratio", default: 0.5)
            kernel = { [try present($0, 0)] }
        case "Add", "Sub", "Mul", "Div": kernel = ONNXElementwise.binary(ctx.node.opType)
        case "Constant": kernel = try constant(&ctx)
        default: kernel = try ONNXShapeOps.compile(&ctx)
        }
        let unread = ctx.attributes.unread
        guard unread.isEmpty else {
            throw ONNXProblem("attribute\(unread.count == 1 ? "" : "s") \(unread.map { "'\($0)'" }.joined(separator: ", ")) not supported")
        }
        return kernel
    }

    static func present(_ inputs: [ONNXValue?], _ i: Int) throws -> ONNXValue {
        guard i < inputs.count, let v = inputs[i] else { throw ONNXProblem("needs input \(i + 1)") }
        return v
    }

    static func floatInput(_ inputs: [ONNXValue?], _ i: Int) throws -> Tensor {
        switch try present(inputs, i) {
        case .float(let t): return t
        case .int: throw ONNXProblem("input \(i + 1) is integer data where float data is needed")
        }
    }

    static func unaryFloat(_ f: @escaping (Tensor) -> Tensor) -> ONNXKernel {
        { [.float(f(try floatInput($0, 0)))] }
    }

    static func batchNormalization(_ ctx: inout ONNXNodeContext, _ register: (BatchNorm) -> Void) throws -> ONNXKernel {
        if ctx.opset >= 14, try ctx.attributes.int("training_mode", default: 0) != 0 {
            throw ONNXProblem("runs in training mode; export the model in eval mode")
        }
        guard ctx.node.output.count == 1 || ctx.node.output.dropFirst().allSatisfy(\.isEmpty) else {
            throw ONNXProblem("outputs running statistics (training mode); export the model in eval mode")
        }
        let eps = try ctx.attributes.float("epsilon", default: 1e-5)
        _ = try ctx.attributes.float("momentum", default: 0.9)
        _ = ctx.attributes.has("spatial")
        let scale = try ctx.constantFloat(1, "scale"), bias = try ctx.constantFloat(2, "bias")
        let mean = try ctx.constantFloat(3, "mean"), variance = try ctx.constantFloat(4, "variance")
        let c = scale.count
        guard bias.count == c, mean.count == c, variance.count == c else {
            throw ONNXProblem("scale, bias, mean and variance hold \([scale.count, bias.count, mean.count, variance.count]) values; they must agree")
        }
        let layer = BatchNorm(c, eps: eps)
        layer.weight!.ptr.update(from: scale.ptr, count: c)
        layer.bias!.ptr.update(from: bias.ptr, count: c)
        layer.runningMean.ptr.update(from: mean.ptr, count: c)
        layer.runningVar.ptr.update(from: variance.ptr, count: c)
        layer.freeze()
        layer.eval()
        register(layer)
        return { inputs in
            let x = try floatInput(inputs, 0)
            guard x.rank == 2 || x.rank == 4, x.shape[1] == c else {
                throw ONNXProblem("input \(x.shape) does not have the \(c) channels of its statistics")
            }
            return [.float(layer(x))]
        }
    }

    /// Y = alpha * A' B' + beta * C. A weight B known at import is laid out once as the [out, in]
    /// matrix Engine's linear takes, alpha folded into it and beta into the bias.
    static func gemm(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        let alpha = try ctx.attributes.float("alpha", default: 1), beta = try ctx.attributes.float("beta", default: 1)
        let transA = try ctx.attributes.int("transA", default: 0) != 0, transB = try ctx.attributes.int("transB", default: 0) != 0
        _ = ctx.attributes.has("broadcast")
        let c = ctx.hasInput(2) ? ctx.constant(2)?.asFloat : nil
        if ctx.hasInput(2) && c == nil { throw ONNXProblem("its C input must be a constant") }
        if let b = ctx.constant(1)?.asFloat {
            guard b.rank == 2 else { throw ONNXProblem("weight \(b.shape) is not a matrix") }
            // Engine's linear wants W [out, in]: B is [in, out], or [out, in] with transB.
            var w = transB ? b : permute(b, [1, 0]).detached()
            if alpha != 1 { w = (w * alpha).detached() }
            let out = w.shape[0]
            var bias: Tensor?
            if let c {
                guard c.count == out || c.count == 1 else { throw ONNXProblem("C \(c.shape) does not fit \(out) outputs") }
                bias = Tensor(zeros: [out])
                for j in 0..<out { bias!.ptr[j] = beta * c.ptr[c.count == 1 ? 0 : j] }
            }
            let weight = w
            return { inputs in
                var a = try floatInput(inputs, 0)
                guard a.rank == 2 else { throw ONNXProblem("input \(a.shape) is not a matrix") }
                if transA { a = permute(a, [1, 0]) }
                guard a.shape[1] == weight.shape[1] else { throw ONNXProblem("input \(a.shape) does not fit weight \(b.shape)") }
                return [.float(linear(a, weight, bias))]
            }
        }
        return { inputs in
            var a = try floatInput(inputs, 0), b = try floatInput(inputs, 1)
            guard a.rank == 2, b.rank == 2 else { throw ONNXProblem("inputs \(a.shape) and \(b.shape) are not matrices") }
            if transA { a = permute(a, [1, 0]) }
            if transB { b = permute(b, [1, 0]) }
            guard a.shape[1] == b.shape[0] else { throw ONNXProblem("inputs \(a.shape) and \(b.shape) do not multiply") }
            var y = matmul(a, b)
            if alpha != 1 { y = y * alpha }
            if let c { y = try ONNXElementwise.apply("Add", .float(y), .float(beta == 1 ? c : c * beta)).asFloat }
            return [.float(y)]
        }
    }

    /// Matrix product; a leading batch of rows ([..., K] x [K, M]) is folded into one GEMM.
    static func matMul(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        { inputs in
            let a = try floatInput(inputs, 0), b = try floatInput(inputs, 1)
            guard a.rank >= 2, b.rank == 2, a.shape[a.rank - 1] == b.shape[0] else {
                throw ONNXProblem("inputs \(a.shape) and \(b.shape): synth multiplies [..., K] by a [K, M] matrix only")
            }
            let k = b.shape[0], m = b.shape[1]
            let rows = a.count / k
            let y = matmul(a.reshaped([rows, k]), b)
            return [.float(y.reshaped(Array(a.shape.dropLast()) + [m]))]
        }
    }

    static func clip(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        var lo = -Float.greatestFiniteMagnitude, hi = Float.greatestFiniteMagnitude
        if ctx.opset < 11 {
            lo = try ctx.attributes.float("min", default: lo); hi = try ctx.attributes.float("max", default: hi)
        } else {
            lo = try ctx.constantScalar(1, "min") ?? lo; hi = try ctx.constantScalar(2, "max") ?? hi
        }
        guard lo <= hi else { throw ONNXProblem("min \(lo) is above max \(hi)") }
        let (l, h) = (lo, hi)
        return unaryFloat { clamp($0, min: l, max: h) }
    }

    static func softmaxKernel(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        let opset = ctx.opset
        let axisAttribute = try ctx.attributes.int("axis", default: opset >= 13 ? -1 : 1)
        return { inputs in
            let x = try floatInput(inputs, 0)
            let axis = axisAttribute < 0 ? axisAttribute + x.rank : axisAttribute
            guard x.rank >= 1, axis >= 0 && axis < x.rank else { throw ONNXProblem("axis \(axisAttribute) of \(x.shape)") }
            if opset < 13 {
                // Before opset 13 the input is seen as [prod(:axis), prod(axis:)] rows.
                let inner = x.shape[axis...].reduce(1, *)
                return [.float(softmax(x.reshaped([x.count / max(inner, 1), inner])).reshaped(x.shape))]
            }
            if axis == x.rank - 1 { return [.float(softmax(x))] }
            var order = Array(0..<x.rank)
            order.swapAt(axis, x.rank - 1)
            return [.float(permute(softmax(permute(x, order)), order))]
        }
    }

    static func constant(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        let value: ONNXValue
        if let t = try ctx.attributes.tensor("value") {
            value = try t.value("its value")
        } else if ctx.attributes.has("value_float") {
            value = .float(Tensor([try ctx.attributes.float("value_float", default: 0)], shape: []))
        } else if let fs = try ctx.attributes.floats("value_floats") {
            value = .float(Tensor(fs, shape: [fs.count]))
        } else if ctx.attributes.has("value_int") {
            value = .int([try ctx.attributes.int("value_int")], shape: [])
        } else if let xs = try ctx.attributes.ints("value_ints") {
            value = .int(xs, shape: [xs.count])
        } else {
            let given = ctx.attributes.unread
            throw ONNXProblem(given.isEmpty ? "has no value" : "gives its value as \(given.joined(separator: ", ")), which synth does not read")
        }
        return { _ in [value] }
    }
}
