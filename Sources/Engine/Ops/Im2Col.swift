import Dispatch

/// The window sweep of a 2-D convolution over an image batch: which input pixel each
/// (channel, ky, kx) tap reads for each output position. Shared by conv2d (unfold on the forward
/// pass, fold on the backward pass) and convTranspose2d (the other way round).
struct ConvGeometry {
    /// The image side of the sweep: conv2d's input, convTranspose2d's output.
    let channels: Int, height: Int, width: Int
    let kh: Int, kw: Int, stride: Int, padding: Int
    /// The window-position side: conv2d's output, convTranspose2d's input.
    let outH: Int, outW: Int

    init(channels: Int, height: Int, width: Int, kh: Int, kw: Int, stride: Int, padding: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kh = kh; self.kw = kw; self.stride = stride; self.padding = padding
        outH = (height + 2 * padding - kh) / stride + 1
        outW = (width + 2 * padding - kw) / stride + 1
    }

    init(channels: Int, height: Int, width: Int, kh: Int, kw: Int, stride: Int, padding: Int, outH: Int, outW: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kh = kh; self.kw = kw; self.stride = stride; self.padding = padding
        self.outH = outH; self.outW = outW
    }

    /// Rows of the column matrix: one per (channel, ky, kx).
    var rows: Int { channels * kh * kw }
    var positions: Int { outH * outW }
    var plane: Int { height * width }
    var isPointwise: Bool { kh == 1 && kw == 1 && stride == 1 && padding == 0 }

    /// Output columns [lo, hi) whose tap kx lands inside the image; the rest read padding.
    @inline(__always)
    func validColumns(_ kx: Int) -> (Int, Int) {
        let lo = min(outW, max(0, ceilDiv(padding - kx, stride)))
        let hi = min(outW, floorDiv(width - 1 + padding - kx, stride) + 1)
        return (lo, max(lo, hi))
    }
}

@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -((-a) / b) }
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// Splits `count` independent tasks over the cores when there is enough work to pay for it.
/// Memory-bound loops only: GEMM brings its own threads, and the two must not nest.
@inline(__always)
func parallelFor(_ count: Int, work: Int, _ body: (Int) -> Void) {
    if count > 1 && work >= 1 << 16 {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    } else {
        for i in 0..<count { body(i) }
    }
}

/// Unfolds `samples` images [samples, C, H, W] into the column matrix
/// [C*kh*kw, samples*outH*outW] (row-major), so that the convolution is one GEMM.
func im2col(_ x: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
    let hw = g.positions, ld = samples * hw, plane = g.plane
    let kk = g.kh * g.kw
    parallelFor(g.channels, work: g.rows * ld) { c in
        for k in 0..<kk {
            let ky = k / g.kw, kx = k % g.kw
            let (lo, hi) = g.validColumns(kx)
            var dst = col + (c * kk + k) * ld
            for n in 0..<samples {
                let src = x + (n * g.channels + c) * plane
                for oy in 0..<g.outH {
                    let iy = oy * g.stride - g.padding + ky
                    if iy < 0 || iy >= g.height {
                        dst.update(repeating: 0, count: g.outW)
                    } else {
                        for ox in 0..<lo { dst[ox] = 0 }
                        let srow = src + iy * g.width - g.padding + kx
                        if g.stride == 1 {
                            (dst + lo).update(from: srow + lo, count: hi - lo)
                        } else {
                            for ox in lo..<hi { dst[ox] = srow[ox * g.stride] }
                        }
                        for ox in hi..<g.outW { dst[ox] = 0 }
                    }
                    dst += g.outW
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds every column-matrix entry back onto the pixel it was read from
/// (padding taps are dropped). Accumulates into `x`.
func col2im(_ col: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry, addingInto x: UnsafeMutablePointer<Float>) {
    let hw = g.positions, ld = samples * hw, plane = g.plane
    let kk = g.kh * g.kw
    // One channel's taps all land in that channel's planes, so channels never race.
    parallelFor(g.channels, work: g.rows * ld) { c in
        for k in 0..<kk {
            let ky = k / g.kw, kx = k % g.kw
            let (lo, hi) = g.validColumns(kx)
            var src = col + (c * kk + k) * ld
            for n in 0..<samples {
                let dst = x + (n * g.channels + c) * plane
                for oy in 0..<g.outH {
                    let iy = oy * g.stride - g.padding + ky
                    if iy >= 0 && iy < g.height {
                        let drow = dst + iy * g.width - g.padding + kx
                        if g.stride == 1 {
                            for ox in lo..<hi { drow[ox] += src[ox] }
                        } else {
                            for ox in lo..<hi { drow[ox * g.stride] += src[ox] }
                        }
                    }
                    src += g.outW
                }
            }
        }
    }
}

/// [channels, samples*hw] -> [samples, channels, hw]: from the channel-major matrices the batched
/// GEMMs produce to NCHW activations. Adds `bias` (per channel) on the way; with `accumulate`
/// adds onto `dst` instead of overwriting it (gradients).
func channelMajorToBatch(_ src: UnsafePointer<Float>, samples: Int, channels: Int, hw: Int,
                         bias: UnsafePointer<Float>? = nil, accumulate: Bool = false,
                         into dst: UnsafeMutablePointer<Float>) {
    let ld = samples * hw
    parallelFor(samples, work: samples * channels * hw) { n in
        for c in 0..<channels {
            let s = src + c * ld + n * hw, d = dst + (n * channels + c) * hw
            if accumulate {
                for i in 0..<hw { d[i] += s[i] }
            } else if let bias {
                let b = bias[c]
                for i in 0..<hw { d[i] = s[i] + b }
            } else {
                d.update(from: s, count: hw)
            }
        }
    }
}

/// [samples, channels, hw] -> [channels, samples*hw], the inverse of `channelMajorToBatch`.
func batchToChannelMajor(_ src: UnsafePointer<Float>, samples: Int, channels: Int, hw: Int,
                         into dst: UnsafeMutablePointer<Float>) {
    let ld = samples * hw
    parallelFor(channels, work: samples * channels * hw) { c in
        for n in 0..<samples {
            (dst + c * ld + n * hw).update(from: src + (n * channels + c) * hw, count: hw)
        }
    }
}

/// Adds the per-channel sums of an NCHW gradient into `gb` (a bias gradient).
func addChannelSums(_ g: UnsafePointer<Float>, samples: Int, channels: Int, hw: Int, into gb: UnsafeMutablePointer<Float>) {
    for c in 0..<channels {
        var s: Float = 0
        for n in 0..<samples {
            let p = g + (n * channels + c) * hw
            for i in 0..<hw { s += p[i] }
        }
        gb[c] += s
    }
}
