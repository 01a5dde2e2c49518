import Support
/// Batch normalisation of [N, C] or [N, C, H, W] (any [N, C, ...]) over every axis but the
/// channel axis, with PyTorch's semantics exactly:
/// - training: normalise with the batch mean and the biased batch variance, and move the running
///   statistics by `momentum` towards the batch mean and the UNBIASED batch variance;
/// - evaluation: normalise with the running statistics.
/// `weight`/`bias` ([C]) may be nil (affine=False; conditional batch norm scales afterwards).
/// The running statistics are updated in place and never differentiated.
public func batchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
    precondition(x.rank >= 2, "batchNorm: input \(x.shape) has no channel axis")
    let n = x.shape[0], c = x.shape[1]
    let inner = c == 0 || n == 0 ? 0 : x.count / (n * c)
    let m = n * inner
    precondition(runningMean.count == c && runningVar.count == c,
                 "batchNorm: running statistics \(runningMean.shape), \(runningVar.shape) for \(c) channels")
    precondition(weight.map { $0.count == c } ?? true, "batchNorm: weight \(weight!.shape) for \(c) channels")
    precondition(bias.map { $0.count == c } ?? true, "batchNorm: bias \(bias!.shape) for \(c) channels")

    // Per-channel mean and 1/sqrt(var + eps) used to normalise; kept for the backward pass.
    let stats = Buffer(count: 2 * c)
    let mu = stats.pointer, invStd = stats.pointer + c
    if training {
        precondition(m > 1, "batchNorm: expected more than 1 value per channel when training, got input \(x.shape)")
        let variance = Buffer(count: c)
        channelMeanAndVariance(x.ptr, n: n, c: c, inner: inner, mean: mu, variance: variance.pointer)
        let rm = runningMean.ptr, rv = runningVar.ptr, v = variance.pointer
        let unbias = Float(m) / Float(m - 1)
        for ch in 0..<c {
            invStd[ch] = 1 / (v[ch] + eps).squareRoot()
            rm[ch] = (1 - momentum) * rm[ch] + momentum * mu[ch]
            rv[ch] = (1 - momentum) * rv[ch] + momentum * v[ch] * unbias
        }
    } else {
        for ch in 0..<c {
            mu[ch] = runningMean.ptr[ch]
            invStd[ch] = 1 / (runningVar.ptr[ch] + eps).squareRoot()
        }
    }

    let parents = [x] + (weight.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
    let out = Tensor(uninitialized: x.shape)

    // y = x * scale + shift with per-channel scale = w / sigma and shift = b - mean * scale.
    let coef = Buffer(count: 2 * c)
    let scale = coef.pointer, shift = coef.pointer + c
    for ch in 0..<c {
        let w = weight?.ptr[ch] ?? 1, b = bias?.ptr[ch] ?? 0
        scale[ch] = w * invStd[ch]
        shift[ch] = b - mu[ch] * scale[ch]
    }
    let xs = x.ptr, y = out.ptr
    if inner == 1 {
        for i in 0..<n {
            let xr = xs + i * c, yr = y + i * c
            for ch in 0..<c { yr[ch] = xr[ch] * scale[ch] + shift[ch] }
        }
    } else {
        Parallel.forEach(n, work: x.count) { i in
            for ch in 0..<c {
                let o = (i * c + ch) * inner, a = scale[ch], b = shift[ch]
                let xr = xs + o, yr = y + o
                for j in 0..<inner { yr[j] = xr[j] * a + b }
            }
        }
    }
    return out.withBackward(parents: parents) { out in
        batchNormBackward(x: x, g: out.grad!.pointer, weight: weight, bias: bias, stats: stats,
                          n: n, c: c, inner: inner, training: training)
    }
}

/// Batch mean and biased variance per channel in one pass over x. Sums of deviations from the
/// channel's first value (not of raw values) keep E[x^2] - E[x]^2 from cancelling when the mean is
/// large against the spread; runs are summed in Float and the runs in Double.
func channelMeanAndVariance(_ x: UnsafePointer<Float>, n: Int, c: Int, inner: Int,
                            mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
    let acc = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c)
    defer { acc.deallocate() }
    let s = acc, q = acc + c
    s.initialize(repeating: 0, count: 2 * c)
    let m = Double(n * inner)
    if inner == 1 {
        for i in 0..<n {
            let xr = x + i * c
            for ch in 0..<c {
                let d = Double(xr[ch] - x[ch])
                s[ch] += d; q[ch] += d * d
            }
        }
    } else {
        // Channels are independent: one core per share of them.
        Parallel.forEach(c, work: n * c * inner) { ch in
            let shift = x[ch * inner]
            for i in 0..<n {
                let (rs, rq) = shiftedSums(x + (i * c + ch) * inner, count: inner, shift: shift)
                s[ch] += Double(rs); q[ch] += Double(rq)
            }
        }
    }
    for ch in 0..<c {
        let shift = Double(inner == 1 ? x[ch] : x[ch * inner])
        let ms = s[ch] / m
        mean[ch] = Float(shift + ms)
        variance[ch] = Float(Swift.max(q[ch] / m - ms * ms, 0))
    }
}

/// (sum of (p - shift), sum of (p - shift)^2) over a contiguous run, eight lanes at a time.
@inline(__always)
func shiftedSums(_ p: UnsafePointer<Float>, count: Int, shift: Float) -> (Float, Float) {
    var s8 = SIMD8<Float>(), q8 = SIMD8<Float>()
    let sh = SIMD8<Float>(repeating: shift)
    let raw = UnsafeRawPointer(p)
    var j = 0
    while j + 8 <= count {
        let v = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - sh
        s8 += v
        q8 += v * v
        j += 8
    }
    var s = s8.sum(), q = q8.sum()
    while j < count { let v = p[j] - shift; s += v; q += v * v; j += 1 }
    return (s, q)
}

/// (sum of g, sum of g * (x - mean)) over a contiguous run, eight lanes at a time.
@inline(__always)
func gradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mean: Float) -> (Float, Float) {
    var s8 = SIMD8<Float>(), d8 = SIMD8<Float>()
    let m8 = SIMD8<Float>(repeating: mean)
    let rg = UnsafeRawPointer(g), rx = UnsafeRawPointer(x)
    var j = 0
    while j + 8 <= count {
        let gv = rg.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
        let xv = rx.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) - m8
        s8 += gv
        d8 += gv * xv
        j += 8
    }
    var s = s8.sum(), d = d8.sum()
    while j < count { s += g[j]; d += g[j] * (x[j] - mean); j += 1 }
    return (s, d)
}

/// The closed-form batch-norm gradient. With xhat = (x - mean) * invStd, per channel:
///   dbias = sum(g), dweight = sum(g * xhat),
///   training: dx = w * invStd * (g - dbias / M - xhat * dweight / M)
///   eval:     dx = w * invStd * g
/// written as dx += a * g + b * (x - mean) + k so the last pass is a few flops per element.
/// `stats` holds the forward pass's per-channel mean, then 1/sqrt(var + eps).
func batchNormBackward(x: Tensor, g: UnsafeMutablePointer<Float>, weight: Tensor?, bias: Tensor?, stats: Buffer,
                       n: Int, c: Int, inner: Int, training: Bool) {
    let mu = stats.pointer, invStd = stats.pointer + c
    let needX = x.requiresGrad
    let needW = weight?.requiresGrad ?? false
    let needB = bias?.requiresGrad ?? false
    let needSums = needW || needB || (needX && training)

    let sums = Buffer(count: 2 * c)
    let sg = sums.pointer, sgx = sums.pointer + c   // sum(g), sum(g * (x - mean))
    if needSums {
        let xs = x.ptr
        if inner == 1 {
            sums.pointer.initialize(repeating: 0, count: 2 * c)
            for i in 0..<n {
                let gr = g + i * c, xr = xs + i * c
                for ch in 0..<c { sg[ch] += gr[ch]; sgx[ch] += gr[ch] * (xr[ch] - mu[ch]) }
            }
        } else {
            Parallel.forEach(c, work: n * c * inner) { ch in
                var s = 0.0, d = 0.0
                for i in 0..<n {
                    let o = (i * c + ch) * inner
                    let (rs, rd) = gradientSums(g + o, xs + o, count: inner, mean: mu[ch])
                    s += Double(rs); d += Double(rd)
                }
                sg[ch] = Float(s); sgx[ch] = Float(d)
            }
        }
        if needW, let weight {
            let gw = weight.gradPtr
            for ch in 0..<c { gw[ch] += sgx[ch] * invStd[ch] }
        }
        if needB, let bias {
            let gb = bias.gradPtr
            for ch in 0..<c { gb[ch] += sg[ch] }
        }
    }
    guard needX else { return }

    let coef = Buffer(count: 3 * c)
    let ca = coef.pointer, cb = coef.pointer + c, ck = coef.pointer + 2 * c
    let invM = 1 / Float(n * inner)
    for ch in 0..<c {
        let w = weight?.ptr[ch] ?? 1
        let a = w * invStd[ch]
        ca[ch] = a
        if training {
            let b = -a * invStd[ch] * invStd[ch] * sgx[ch] * invM
            cb[ch] = b
            ck[ch] = -a * sg[ch] * invM
        } else {
            cb[ch] = 0; ck[ch] = 0
        }
    }
    let (gx, fresh) = x.gradientTarget(), xs = x.ptr
    if inner == 1 {
        for i in 0..<n {
            let gr = g + i * c, xr = xs + i * c
            store(gx + i * c, count: c, overwrite: fresh) { ca[$0] * gr[$0] + cb[$0] * (xr[$0] - mu[$0]) + ck[$0] }
        }
    } else {
        Parallel.forEach(n, work: x.count) { i in
            for ch in 0..<c {
                let o = (i * c + ch) * inner
                let a = ca[ch], b = cb[ch], k = ck[ch], m = mu[ch]
                let gr = g + o, xr = xs + o
                if training {
                    store(gx + o, count: inner, overwrite: fresh) { a * gr[$0] + b * (xr[$0] - m) + k }
                } else {
                    store(gx + o, count: inner, overwrite: fresh) { a * gr[$0] }
                }
            }
        }
    }
}
