import Engine

/// Add, Sub, Mul, Div with numpy broadcasting: on float data through Engine's broadcasting ops
/// (so normalisation folded into the graph, residual sums and scalings differentiate), on integer
/// data (shape arithmetic) on plain arrays.
enum ONNXElementwise {
    static func binary(_ op: String) -> ONNXKernel {
        { inputs in [try apply(op, try ONNXOperators.present(inputs, 0), try ONNXOperators.present(inputs, 1))] }
    }

    static func apply(_ op: String, _ a: ONNXValue, _ b: ONNXValue) throws -> ONNXValue {
        let shape = try broadcastShape(a.shape, b.shape)
        try checkSize(shape, "its output")
        if case .int(let x, _) = a, case .int(let y, _) = b {
            return .int(try integer(op, x, a.shape, y, b.shape, shape), shape: shape)
        }
        let x = a.asFloat, y = b.asFloat
        switch op {
        case "Add": return .float(add(x, y))
        case "Sub": return .float(sub(x, y))
        case "Mul": return .float(mul(x, y))
        default: return .float(div(x, y))
        }
    }

    static func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a, pb = Array(repeating: 1, count: rank - b.count) + b
        return try (0..<rank).map { d in
            if pa[d] == pb[d] || pb[d] == 1 { return pa[d] }
            if pa[d] == 1 { return pb[d] }
            throw ONNXProblem("shapes \(a) and \(b) do not broadcast")
        }
    }

    /// Integer arithmetic with broadcasting, element by element (shape tensors hold a few values).
    private static func integer(_ op: String, _ x: [Int], _ xs: [Int], _ y: [Int], _ ys: [Int], _ shape: [Int]) throws -> [Int] {
        let rank = shape.count
        func strides(_ s: [Int]) -> [Int] {
            let p = Array(repeating: 1, count: rank - s.count) + s
            var st = [Int](repeating: 0, count: rank), step = 1
            for d in stride(from: rank - 1, through: 0, by: -1) { st[d] = p[d] == 1 ? 0 : step; step *= p[d] }
            return st
        }
        let sx = strides(xs), sy = strides(ys)
        let count = shape.reduce(1, *)
        var out = [Int](repeating: 0, count: count)
        for i in 0..<count {
            var rest = i, ox = 0, oy = 0
            for d in stride(from: rank - 1, through: 0, by: -1) {
                let k = rest % shape[d]; rest /= shape[d]
                ox += k * sx[d]; oy += k * sy[d]
            }
            let a = x[ox], b = y[oy]
            switch op {
            case "Add": out[i] = a &+ b
            case "Sub": out[i] = a &- b
            case "Mul": out[i] = a &* b
            default:
                guard b != 0 else { throw ONNXProblem("divides an integer by zero") }
                out[i] = a / b
            }
        }
        return out
    }
}
