import Engine

/// Operators that move values rather than compute them: Flatten, Reshape, Squeeze, Unsqueeze,
/// Transpose, Concat, and the integer chains an exporter wraps around a reshape (Shape, Gather,
/// Slice, Cast). Float data keeps its autodiff graph (reshapes are views, Transpose a permute).
enum ONNXShapeOps {
    static func compile(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        switch ctx.node.opType {
        case "Flatten":
            let axisAttribute = try ctx.attributes.int("axis", default: 1)
            return { inputs in
                let x = try ONNXOperators.present(inputs, 0)
                let axis = try normalized(axisAttribute, rank: x.shape.count, inclusive: true)
                let outer = x.shape[..<axis].reduce(1, *)
                return [x.reshaped([outer, x.count / max(outer, 1)])]
            }
        case "Reshape":
            let allowZero = try ctx.attributes.int("allowzero", default: 0) != 0
            return { inputs in
                let x = try ONNXOperators.present(inputs, 0)
                guard case .int(let target, _) = try ONNXOperators.present(inputs, 1) else { throw ONNXProblem("its shape is not integer data") }
                return [x.reshaped(try reshapeTarget(target, of: x.shape, allowZero: allowZero))]
            }
        case "Squeeze", "Unsqueeze":
            let squeeze = ctx.node.opType == "Squeeze"
            let axes = ctx.opset >= 13 ? try ctx.constantInts(1, "axes") : try ctx.attributes.ints("axes")
            if !squeeze && axes == nil { throw ONNXProblem("needs axes") }
            return { inputs in
                let x = try ONNXOperators.present(inputs, 0)
                return [x.reshaped(squeeze ? try squeezed(x.shape, axes) : try unsqueezed(x.shape, axes!))]
            }
        case "Transpose":
            let perm = try ctx.attributes.ints("perm")
            return { inputs in
                let x = try ONNXOperators.present(inputs, 0)
                let order = perm ?? Array((0..<x.shape.count).reversed())
                guard Set(order) == Set(0..<x.shape.count), order.count == x.shape.count else { throw ONNXProblem("perm \(order) for \(x.shape)") }
                switch x {
                case .float(let t): return [.float(permute(t, order))]
                case .int(let v, let shape):
                    return [.int(permute(Tensor(v.map(Float.init), shape: shape), order).array.map { Int($0) }, shape: order.map { shape[$0] })]
                }
            }
        case "Concat":
            let axisAttribute = try ctx.attributes.int("axis")
            return { inputs in
                let xs = try inputs.indices.map { try ONNXOperators.present(inputs, $0) }
                guard let first = xs.first else { throw ONNXProblem("has no inputs") }
                let axis = try normalized(axisAttribute, rank: first.shape.count, inclusive: false)
                for x in xs {
                    guard x.shape.count == first.shape.count,
                          (0..<first.shape.count).allSatisfy({ $0 == axis || x.shape[$0] == first.shape[$0] }) else {
                        throw ONNXProblem("inputs \(xs.map(\.shape)) do not join along axis \(axis)")
                    }
                }
                let ints = xs.compactMap { v -> [Int]? in if case .int(let a, _) = v { return a }; return nil }
                if ints.count == xs.count && first.shape.count == 1 {
                    return [.int(ints.flatMap { $0 }, shape: [ints.reduce(0) { $0 + $1.count }])]
                }
                var shape = first.shape
                shape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
                let y = concat(xs.map(\.asFloat), axis: axis)
                return [ints.count == xs.count ? .int(y.array.map { Int($0) }, shape: shape) : .float(y)]
            }
        case "Shape":
            let start = try ctx.attributes.int("start", default: 0)
            let end = ctx.attributes.has("end") ? try ctx.attributes.int("end") : nil
            return { inputs in
                let shape = try ONNXOperators.present(inputs, 0).shape
                let r = shape.count
                func clampAxis(_ a: Int) -> Int { min(max(a < 0 ? a + r : a, 0), r) }
                let lo = clampAxis(start), hi = clampAxis(end ?? r)
                let dims = lo < hi ? Array(shape[lo..<hi]) : []
                return [.int(dims, shape: [dims.count])]
            }
        case "Gather":
            let axisAttribute = try ctx.attributes.int("axis", default: 0)
            return { inputs in
                let data = try ONNXOperators.present(inputs, 0)
                guard case .int(let indices, let indexShape) = try ONNXOperators.present(inputs, 1) else { throw ONNXProblem("its indices are not integers") }
                let axis = try normalized(axisAttribute, rank: data.shape.count, inclusive: false)
                guard axis == 0 else { throw ONNXProblem("gathers along axis \(axis); synth gathers along axis 0 only") }
                let n = data.shape[0], row = data.count / max(n, 1)
                let picked = try indices.map { i -> Int in
                    let j = i < 0 ? i + n : i
                    guard j >= 0 && j < n else { throw ONNXProblem("index \(i) out of range for \(data.shape)") }
                    return j
                }
                let shape = indexShape + Array(data.shape.dropFirst())
                switch data {
                case .int(let v, _): return [.int(picked.flatMap { v[($0 * row)..<($0 * row + row)] }, shape: shape)]
                case .float(let t):
                    // Only constants reach here with float data (folded at import): no gradient needed.
                    guard !t.requiresGrad else { throw ONNXProblem("gathers from activations, which synth does not support") }
                    let values = picked.flatMap { Array(t.values[($0 * row)..<($0 * row + row)]) }
                    return [.float(Tensor(values, shape: shape))]
                }
            }
        case "Slice":
            guard ctx.opset >= 10 else { throw ONNXProblem("opset \(ctx.opset) Slice (attributes) is not supported") }
            return { inputs in
                guard case .int(let v, let shape) = try ONNXOperators.present(inputs, 0), shape.count == 1 else {
                    throw ONNXProblem("slices float data or more than one axis; synth slices 1-D integer data (shapes) only")
                }
                func ints(_ i: Int) throws -> [Int]? {
                    guard i < inputs.count, let x = inputs[i] else { return nil }
                    guard case .int(let a, _) = x else { throw ONNXProblem("input \(i + 1) is not integers") }
                    return a
                }
                guard let starts = try ints(1), let ends = try ints(2), starts.count == 1, ends.count == 1 else { throw ONNXProblem("needs one start and one end") }
                if let axes = try ints(3), axes != [0] && axes != [-1] { throw ONNXProblem("axes \(axes) of a 1-D value") }
                let step = try ints(4)?.first ?? 1
                guard step != 0 else { throw ONNXProblem("step 0") }
                let n = v.count
                func clampIndex(_ a: Int, _ lo: Int, _ hi: Int) -> Int { min(max(a < 0 ? a + n : a, lo), hi) }
                var out: [Int] = []
                if step > 0 {
                    var i = clampIndex(starts[0], 0, n); let e = clampIndex(ends[0], 0, n)
                    while i < e { out.append(v[i]); i += step }
                } else {
                    var i = clampIndex(starts[0], -1, n - 1); let e = clampIndex(ends[0], -1, n - 1)
                    while i > e { out.append(v[i]); i += step }
                }
                return [.int(out, shape: [out.count])]
            }
        case "Cast":
            let to = Int32(try ctx.attributes.int("to"))
            _ = try ctx.attributes.int("saturate", default: 1)
            let integers: Set<Int32> = [ONNXDataType.int64, ONNXDataType.int32, ONNXDataType.int8, ONNXDataType.uint8, ONNXDataType.bool]
            guard to == ONNXDataType.float || to == ONNXDataType.double || integers.contains(to) else {
                throw ONNXProblem("casts to \(ONNXDataType.name(to)), which synth does not compute in")
            }
            return { inputs in
                let x = try ONNXOperators.present(inputs, 0)
                if !integers.contains(to) { return [.float(x.asFloat)] }
                switch x {
                case .int: return [x]
                case .float(let t):
                    guard !t.requiresGrad else { throw ONNXProblem("casts activations to integers, which has no gradient") }
                    return [.int(t.array.map { $0.isFinite ? Int($0) : 0 }, shape: t.shape)]
                }
            }
        default:
            let op = ctx.node.domain.isEmpty || ctx.node.domain == "ai.onnx" ? ctx.node.opType : "\(ctx.node.domain).\(ctx.node.opType)"
            throw ONNXProblem("operator \(op) is not supported (synth maps \(ONNXOperators.supported.joined(separator: ", ")))")
        }
    }

    static func normalized(_ axis: Int, rank: Int, inclusive: Bool) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && (inclusive ? a <= rank : a < rank) else { throw ONNXProblem("axis \(axis) of a rank-\(rank) value") }
        return a
    }

    /// Reshape's target: 0 copies the input's dimension (unless allowzero), -1 takes what is left.
    static func reshapeTarget(_ target: [Int], of shape: [Int], allowZero: Bool) throws -> [Int] {
        var dims = try target.enumerated().map { i, d -> Int in
            if d == 0 && !allowZero {
                guard i < shape.count else { throw ONNXProblem("shape \(target) copies dimension \(i) of \(shape)") }
                return shape[i]
            }
            return d
        }
        let count = shape.reduce(1, *)
        let unknown = dims.indices.filter { dims[$0] == -1 }
        guard unknown.count <= 1, dims.allSatisfy({ $0 >= -1 }) else { throw ONNXProblem("shape \(target) for \(shape)") }
        if let i = unknown.first {
            // Counted with overflow checks: a hostile target such as [4, Int.max, -1] must get
            // the message, not a trap (fuzz finding onnx-reshape-overflow).
            let known = boundedCount(dims.enumerated().filter { $0.offset != i }.map(\.element)) ?? 0
            guard known > 0, count % known == 0 else { throw ONNXProblem("shape \(target) does not fit \(shape)") }
            dims[i] = count / known
        }
        guard boundedCount(dims) == count else {
            throw ONNXProblem("shape \(target) does not fit \(shape) (\(count) values; a batch size fixed at export? export with dynamic_axes)")
        }
        return dims
    }

    static func squeezed(_ shape: [Int], _ axes: [Int]?) throws -> [Int] {
        guard let axes else { return shape.filter { $0 != 1 } }
        let drop = try Set(axes.map { try normalized($0, rank: shape.count, inclusive: false) })
        for a in drop where shape[a] != 1 { throw ONNXProblem("squeezes axis \(a) of \(shape), which is not 1") }
        return shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }

    static func unsqueezed(_ shape: [Int], _ axes: [Int]) throws -> [Int] {
        let rank = shape.count + axes.count
        let add = try Set(axes.map { try normalized($0, rank: rank, inclusive: false) })
        guard add.count == axes.count else { throw ONNXProblem("axes \(axes) repeat") }
        var out: [Int] = [], rest = shape.makeIterator()
        for i in 0..<rank { out.append(add.contains(i) ? 1 : rest.next()!) }
        return out
    }
}
