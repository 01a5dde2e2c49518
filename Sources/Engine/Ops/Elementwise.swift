import Support
/// How two operands map onto their broadcast result (NumPy/PyTorch rules, shapes aligned on the
/// right), reduced to the fewest dimensions that can be walked with plain strides.
///
/// Size-1 output dims are dropped and neighbouring dims are merged whenever both operands step
/// through them contiguously, so every case collapses to "rows" of `inner` contiguous output
/// elements in which each operand either runs along with the output (stride 1) or stays on one
/// value (stride 0). Equal shapes become a single row; [N,C,H,W] against [1,C,1,1] becomes N*C
/// rows of H*W with a constant operand; [N,C] against [C] becomes N rows of C. The per-row offset
/// arithmetic is the only index work, so the inner loops stay tight.
struct BroadcastPlan {
    /// The broadcast output shape (full rank, as the result tensor carries it).
    let shape: [Int]
    let count: Int
    /// Merged outer dims (everything but the innermost) and each operand's stride through them.
    let outer: [Int]
    let outerStrideA: [Int]
    let outerStrideB: [Int]
    let rows: Int
    /// Innermost run length and the operands' strides along it (0 or 1).
    let inner: Int
    let innerStrideA: Int
    let innerStrideB: Int

    init(_ a: [Int], _ b: [Int], op: StaticString = "broadcast") {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            if pa[d] == pb[d] || pb[d] == 1 { out[d] = pa[d] }
            else if pa[d] == 1 { out[d] = pb[d] }
            else { preconditionFailure("\(op): shapes \(a) and \(b) do not broadcast") }
        }
        shape = out
        count = out.reduce(1, *)

        // Dims from innermost outwards as (size, strideA, strideB), merged when contiguous in both.
        var dims: [(n: Int, sa: Int, sb: Int)] = []
        var stepA = 1, stepB = 1
        for d in stride(from: rank - 1, through: 0, by: -1) {
            let sa = pa[d] == 1 ? 0 : stepA, sb = pb[d] == 1 ? 0 : stepB
            stepA *= pa[d]; stepB *= pb[d]
            if out[d] == 1 { continue }
            if let last = dims.last, sa == last.sa * last.n, sb == last.sb * last.n {
                dims[dims.count - 1] = (last.n * out[d], last.sa, last.sb)
            } else {
                dims.append((out[d], sa, sb))
            }
        }
        if let innermost = dims.first {
            inner = innermost.n; innerStrideA = innermost.sa; innerStrideB = innermost.sb
            let rest = dims.dropFirst().reversed()
            outer = rest.map(\.n); outerStrideA = rest.map(\.sa); outerStrideB = rest.map(\.sb)
        } else {  // every dim is 1: one element
            inner = 1; innerStrideA = 0; innerStrideB = 0
            outer = []; outerStrideA = []; outerStrideB = []
        }
        rows = outer.reduce(1, *)
    }

    /// Calls `body(offsetA, offsetB, offsetOut)` for each row of `inner` output elements.
    @inline(__always)
    func forEachRow(_ body: (_ offA: Int, _ offB: Int, _ offOut: Int) -> Void) {
        if outer.isEmpty { body(0, 0, 0); return }
        let depth = outer.count
        var index = [Int](repeating: 0, count: depth)
        var oa = 0, ob = 0
        for r in 0..<rows {
            body(oa, ob, r * inner)
            var d = depth - 1
            while d >= 0 {
                index[d] += 1; oa += outerStrideA[d]; ob += outerStrideB[d]
                if index[d] < outer[d] { break }
                oa -= outerStrideA[d] * outer[d]; ob -= outerStrideB[d] * outer[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

extension Tensor {
    /// Where a backward pass puts this tensor's gradient: the existing gradient to add into, or,
    /// when there is none yet, a new uninitialised buffer to overwrite — which spares zeroing a
    /// whole activation-sized buffer only to add into it. With `overwrite` the caller must write
    /// every element.
    @inline(__always)
    func gradientTarget() -> (pointer: UnsafeMutablePointer<Float>, overwrite: Bool) {
        if let g = grad { return (g.pointer, false) }
        let g = Buffer(count: count)
        grad = g
        return (g.pointer, true)
    }
}

/// p[i] = value(i), or p[i] += value(i), for i in 0..<n.
@inline(__always)
func store(_ p: UnsafeMutablePointer<Float>, count n: Int, overwrite: Bool, _ value: (Int) -> Float) {
    if overwrite {
        for i in 0..<n { p[i] = value(i) }
    } else {
        for i in 0..<n { p[i] += value(i) }
    }
}

/// An elementwise function and its gradient: the one framework every unary op is written in
/// (activations, math functions, scalar arithmetic; `BinaryKernel` is its two-operand half).
///
/// Kernels are types, not closures: `unary` is generic over the kernel, so the compiler
/// specialises it for each op and inlines the arithmetic into tight loops, and a kernel's loops
/// are the same code whatever calls it. A closure parameter gets that only when the optimiser
/// happens to inline the call, and the gradient runs once per element in every backward pass.
/// A kernel with a parameter (a slope, a scalar) carries it as a stored property.
protocol UnaryKernel {
    func value(_ x: Float) -> Float
    /// x's gradient from the output gradient g, the input x and the output y (whichever is cheaper).
    func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float
    /// gx += this element's gradient; relu overrides it to skip the add where the gradient is 0.
    func accumulate(_ gx: inout Float, _ g: Float, _ x: Float, _ y: Float)
    /// Whether the loops run in 32k-element ranges spread over the cores (activations, which run
    /// on every layer of every net) or in one pass on the calling thread (everything else).
    /// Either way each element is computed alone, so this changes the speed, never a byte.
    static var splitsOverCores: Bool { get }
}

extension UnaryKernel {
    @inline(__always) func accumulate(_ gx: inout Float, _ g: Float, _ x: Float, _ y: Float) { gx += gradient(g, x, y) }
    static var splitsOverCores: Bool { false }
}

/// y = kernel(x), same shape; the backward writes (or adds) the kernel's gradient per element.
func unary<K: UnaryKernel>(_ x: Tensor, _ kernel: K) -> Tensor {
    let out = Tensor(uninitialized: x.shape)
    let xs = x.ptr, ys = out.ptr
    elementRanges(x.count, splitting: K.splitsOverCores) { r in for i in r { ys[i] = kernel.value(xs[i]) } }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, (gx, fresh) = x.gradientTarget(), xs = x.ptr, ys = out.ptr
        elementRanges(x.count, splitting: K.splitsOverCores) { r in
            if fresh {
                for i in r { gx[i] = kernel.gradient(g[i], xs[i], ys[i]) }
            } else {
                for i in r { kernel.accumulate(&gx[i], g[i], xs[i], ys[i]) }
            }
        }
    }
}

/// Runs body over 0..<n: in one range, or split into fixed ranges of 32k elements spread over
/// the cores when there are several.
@inline(__always)
func elementRanges(_ n: Int, splitting: Bool, _ body: (Range<Int>) -> Void) {
    if splitting {
        Parallel.forEachChunk(n, chunk: 1 << 15, work: n, body)
    } else {
        body(0..<n)
    }
}

/// y = f(a, b) over one row, specialised on which operand stays constant.
@inline(__always)
func broadcastRow(_ n: Int, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                  _ y: UnsafeMutablePointer<Float>, _ f: (Float, Float) -> Float) {
    if sa == 1 && sb == 1 {
        for j in 0..<n { y[j] = f(a[j], b[j]) }
    } else if sa == 1 {
        let bv = b[0]
        for j in 0..<n { y[j] = f(a[j], bv) }
    } else if sb == 1 {
        let av = a[0]
        for j in 0..<n { y[j] = f(av, b[j]) }
    } else {
        let v = f(a[0], b[0])
        for j in 0..<n { y[j] = v }
    }
}

/// Accumulates h(g, t, o) into the gradient `gt` of operand t over one row; a constant operand
/// (stride 0) receives the row's sum, which is how broadcast dims get reduced. `overwrite` (only
/// for an operand that runs along the whole output) writes instead of adding.
@inline(__always)
func accumulateRow(_ n: Int, into gt: UnsafeMutablePointer<Float>, overwrite: Bool, _ g: UnsafePointer<Float>,
                   _ t: UnsafePointer<Float>, _ st: Int, _ o: UnsafePointer<Float>, _ so: Int,
                   _ h: (_ g: Float, _ t: Float, _ o: Float) -> Float) {
    if st == 1 && so == 1 {
        store(gt, count: n, overwrite: overwrite) { h(g[$0], t[$0], o[$0]) }
    } else if st == 1 {
        let ov = o[0]
        store(gt, count: n, overwrite: overwrite) { h(g[$0], t[$0], ov) }
    } else if so == 1 {
        let tv = t[0]
        var acc: Float = 0
        for j in 0..<n { acc += h(g[j], tv, o[j]) }
        // A one-element target broadcast along the row: a fresh (uninitialised) buffer when
        // `overwrite`, e.g. the scalar terms of a summed loss.
        if overwrite { gt[0] = acc } else { gt[0] += acc }
    } else {
        let tv = t[0], ov = o[0]
        var acc: Float = 0
        for j in 0..<n { acc += h(g[j], tv, ov) }
        if overwrite { gt[0] = acc } else { gt[0] += acc }
    }
}

/// The value and partial derivatives of a broadcasting binary op; the two-operand half of the
/// kernel framework `UnaryKernel` describes (types, not closures, for the same reason).
protocol BinaryKernel {
    func value(_ a: Float, _ b: Float) -> Float
    /// Contribution to a's gradient from output gradient g.
    func da(_ g: Float, _ a: Float, _ b: Float) -> Float
    /// Contribution to b's gradient (note the operand order: b first).
    func db(_ g: Float, _ b: Float, _ a: Float) -> Float
}

struct AddKernel: BinaryKernel {
    @inline(__always) func value(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) func da(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) func db(_ g: Float, _ b: Float, _ a: Float) -> Float { g }
}

struct SubKernel: BinaryKernel {
    @inline(__always) func value(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) func da(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) func db(_ g: Float, _ b: Float, _ a: Float) -> Float { -g }
}

struct MulKernel: BinaryKernel {
    @inline(__always) func value(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) func da(_ g: Float, _ a: Float, _ b: Float) -> Float { g * b }
    @inline(__always) func db(_ g: Float, _ b: Float, _ a: Float) -> Float { g * a }
}

struct DivKernel: BinaryKernel {
    @inline(__always) func value(_ a: Float, _ b: Float) -> Float { a / b }
    @inline(__always) func da(_ g: Float, _ a: Float, _ b: Float) -> Float { g / b }
    @inline(__always) func db(_ g: Float, _ b: Float, _ a: Float) -> Float { -g * a / (b * b) }
}

/// y = a op b with broadcasting: a [..], b [..] -> the broadcast shape; each operand's gradient
/// is reduced back over the dims it was broadcast along.
func broadcastBinary<K: BinaryKernel>(_ a: Tensor, _ b: Tensor, _ kernel: K, op: StaticString) -> Tensor {
    let plan = BroadcastPlan(a.shape, b.shape, op: op)
    let out = Tensor(uninitialized: plan.shape)
    let ap = a.ptr, bp = b.ptr, y = out.ptr, n = plan.inner
    let sa = plan.innerStrideA, sb = plan.innerStrideB
    plan.forEachRow { oa, ob, oy in broadcastRow(n, ap + oa, sa, bp + ob, sb, y + oy, kernel.value) }
    return out.withBackward(parents: [a, b]) { out in
        let g = out.grad!.pointer
        if a.requiresGrad {
            let (ga, fresh) = a.count == plan.count ? a.gradientTarget() : (a.gradPtr, false)
            plan.forEachRow { oa, ob, oy in
                accumulateRow(n, into: ga + oa, overwrite: fresh, g + oy, ap + oa, sa, bp + ob, sb, kernel.da)
            }
        }
        if b.requiresGrad {
            let (gb, fresh) = b.count == plan.count ? b.gradientTarget() : (b.gradPtr, false)
            plan.forEachRow { oa, ob, oy in
                accumulateRow(n, into: gb + ob, overwrite: fresh, g + oy, bp + ob, sb, ap + oa, sa, kernel.db)
            }
        }
    }
}

/// a + b with broadcasting.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, AddKernel(), op: "add") }

/// a - b with broadcasting.
public func sub(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, SubKernel(), op: "sub") }

/// a * b with broadcasting.
public func mul(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, MulKernel(), op: "mul") }

/// a / b with broadcasting.
public func div(_ a: Tensor, _ b: Tensor) -> Tensor { broadcastBinary(a, b, DivKernel(), op: "div") }

/// y = scale * x + shift, which is exact for each of x + s, x - s, s - x, s * x and -x: the
/// kernel that drops the multiply or the add when it is the identity.
func affine(_ x: Tensor, scale: Float, shift: Float) -> Tensor {
    if scale == 1 { return unary(x, ShiftKernel(shift: shift)) }
    if shift == 0 { return unary(x, ScaleKernel(scale: scale)) }
    return unary(x, ScaleShiftKernel(scale: scale, shift: shift))
}

struct ShiftKernel: UnaryKernel {
    let shift: Float
    @inline(__always) func value(_ x: Float) -> Float { x + shift }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g }
}

struct ScaleKernel: UnaryKernel {
    let scale: Float
    @inline(__always) func value(_ x: Float) -> Float { scale * x }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { scale * g }
}

struct ScaleShiftKernel: UnaryKernel {
    let scale: Float, shift: Float
    @inline(__always) func value(_ x: Float) -> Float { scale * x + shift }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { scale * g }
}

/// x / s, divided rather than multiplied by 1/s so values match PyTorch bit for bit.
func divide(_ x: Tensor, by s: Float) -> Tensor { unary(x, DivideByKernel(divisor: s)) }

struct DivideByKernel: UnaryKernel {
    let divisor: Float
    @inline(__always) func value(_ x: Float) -> Float { x / divisor }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { g / divisor }
}

/// s / x.
func divide(_ s: Float, by x: Tensor) -> Tensor { unary(x, DivideIntoKernel(dividend: s)) }

struct DivideIntoKernel: UnaryKernel {
    let dividend: Float
    @inline(__always) func value(_ x: Float) -> Float { dividend / x }
    @inline(__always) func gradient(_ g: Float, _ x: Float, _ y: Float) -> Float { -g * y / x }
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { add(a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { sub(a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { mul(a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { div(a, b) }

    public static func + (a: Tensor, s: Float) -> Tensor { affine(a, scale: 1, shift: s) }
    public static func + (s: Float, a: Tensor) -> Tensor { affine(a, scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { affine(a, scale: 1, shift: -s) }
    public static func - (s: Float, a: Tensor) -> Tensor { affine(a, scale: -1, shift: s) }
    public static func * (a: Tensor, s: Float) -> Tensor { affine(a, scale: s, shift: 0) }
    public static func * (s: Float, a: Tensor) -> Tensor { affine(a, scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { divide(a, by: s) }
    public static func / (s: Float, a: Tensor) -> Tensor { divide(s, by: a) }

    public static prefix func - (a: Tensor) -> Tensor { affine(a, scale: -1, shift: 0) }
}
