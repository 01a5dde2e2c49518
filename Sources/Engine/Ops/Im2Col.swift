import Support
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
    /// Stride 1 and output rows as long as input rows: every tap's unfolded row is a shifted copy.
    var isSameWidth: Bool { stride == 1 && outW == width }

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
@inline(__always)
func parallelFor(_ count: Int, work: Int, _ body: (Int) -> Void) {
    Parallel.forEach(count, work: work, body)
}

extension ConvGeometry {
    /// The sweep im2col and col2im share, over `samples` images and the column matrix
    /// [C*kh*kw, samples*outH*outW]: for every (channel, tap, sample) in order, either
    /// `sameWidth(ky, kx, lo, hi, run, plane)` with the matrix run of `positions` entries and the
    /// image plane it pairs with (when `isSameWidth`), or, output row by output row,
    /// `row(lo, hi, entries, pixels)` with the row's `outW` matrix entries and the image row its
    /// tap reads, shifted so that entry ox pairs with pixel ox * stride (nil where the tap lands
    /// in the padding rows). Channels are split over the cores: one channel's taps touch only that
    /// channel's planes, so parts never race.
    @inline(__always)
    func sweep(samples: Int,
               sameWidth: (_ ky: Int, _ kx: Int, _ lo: Int, _ hi: Int, _ run: Int, _ plane: Int) -> Void,
               row: (_ lo: Int, _ hi: Int, _ entries: Int, _ pixels: Int?) -> Void) {
        let ld = samples * positions, kk = kh * kw
        parallelFor(channels, work: rows * ld) { c in
            for k in 0..<kk {
                let ky = k / kw, kx = k % kw
                let (lo, hi) = validColumns(kx)
                for n in 0..<samples {
                    let run = (c * kk + k) * ld + n * positions, plane = (n * channels + c) * self.plane
                    if isSameWidth {
                        sameWidth(ky, kx, lo, hi, run, plane)
                        continue
                    }
                    for oy in 0..<outH {
                        let iy = oy * stride - padding + ky
                        row(lo, hi, run + oy * outW, iy >= 0 && iy < height ? plane + iy * width - padding + kx : nil)
                    }
                }
            }
        }
    }
}

/// Unfolds `samples` images [samples, C, H, W] into the column matrix
/// [C*kh*kw, samples*outH*outW] (row-major), so that the convolution is one GEMM.
func im2col(_ x: UnsafePointer<Float>, samples: Int, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
    g.sweep(samples: samples, sameWidth: { ky, kx, lo, hi, run, plane in
        unfoldSameWidth(x + plane, g, ky: ky, kx: kx, lo: lo, hi: hi, into: col + run)
    }, row: { lo, hi, entries, pixels in
        // Rows here are short (the pooled and phase grids: 7-15 entries) and there are many of
        // them: plain pointer loops, no range iterators or per-row library calls.
        let dst = col + entries, outW = g.outW
        guard let pixels else {
            var i = 0
            while i < outW { dst[i] = 0; i += 1 }
            return
        }
        var i = 0
        while i < lo { dst[i] = 0; i += 1 }
        let step = g.stride
        var s = x + pixels + lo * step
        while i < hi { dst[i] = s.pointee; s += step; i += 1 }
        while i < outW { dst[i] = 0; i += 1 }
    })
}

/// Where tap (ky, kx) of a "same" stride-1 convolution reads: output rows yLo..<yHi see the image,
/// shifted by `shift` positions; block positions a..<b have their source inside the plane (the
/// rest lie in the zeroed edge columns). Shared by the unfold and its adjoint, the fold.
@inline(__always)
private func sameWidthTap(_ g: ConvGeometry, ky: Int, kx: Int) -> (yLo: Int, yHi: Int, shift: Int, a: Int, b: Int) {
    let w = g.width
    let yLo = max(0, g.padding - ky), yHi = max(yLo, min(g.outH, g.height + g.padding - ky))
    let shift = (ky - g.padding) * w + (kx - g.padding)
    return (yLo, yHi, shift, max(yLo * w, -shift), min(yHi * w, g.plane - shift))
}

/// One (tap, sample) row of the column matrix when rows of the output and the input are equally
/// long and stride is 1 ("same" convolutions, e.g. 3x3 with padding 1): the row is the image
/// shifted by a constant offset, so it is one block copy plus zeroed edge columns and rows,
/// instead of one short copy per image row.
@inline(__always)
private func unfoldSameWidth(_ src: UnsafePointer<Float>, _ g: ConvGeometry, ky: Int, kx: Int, lo: Int, hi: Int,
                             into dst: UnsafeMutablePointer<Float>) {
    let w = g.width
    let (yLo, yHi, shift, a, b) = sameWidthTap(g, ky: ky, kx: kx)
    for i in 0..<yLo * w { dst[i] = 0 }
    if b > a { (dst + a).update(from: src + a + shift, count: b - a) }
    for i in yHi * w..<g.outH * w { dst[i] = 0 }
    zeroEdgeColumns(dst, width: w, rows: yLo..<yHi, lo: lo, hi: hi)
}

/// Zeroes columns [0, lo) and [hi, width) of the given rows. Column-wise strided stores: row-wise
/// loops of one or two elements get turned into a memset call per row.
@inline(__always)
private func zeroEdgeColumns(_ p: UnsafeMutablePointer<Float>, width w: Int, rows: Range<Int>, lo: Int, hi: Int) {
    for ox in 0..<lo {
        var q = p + rows.lowerBound * w + ox
        for _ in rows { q.pointee = 0; q += w }
    }
    for ox in hi..<w {
        var q = p + rows.lowerBound * w + ox
        for _ in rows { q.pointee = 0; q += w }
    }
}

/// The adjoint of `im2col`: adds every column-matrix entry back onto the pixel it was read from
/// (padding taps are dropped). Accumulates into `x`. Clobbers the padding-tap entries of `col`
/// (it is always scratch) so that same-width rows can be added as one block.
func col2im(_ col: UnsafeMutablePointer<Float>, samples: Int, _ g: ConvGeometry, addingInto x: UnsafeMutablePointer<Float>) {
    g.sweep(samples: samples, sameWidth: { ky, kx, lo, hi, run, plane in
        foldSameWidth(col + run, g, ky: ky, kx: kx, lo: lo, hi: hi, addingInto: x + plane)
    }, row: { lo, hi, entries, pixels in
        guard let pixels else { return }
        let src = col + entries, step = g.stride
        var d = x + pixels + lo * step, i = lo
        while i < hi { d.pointee += src[i]; d += step; i += 1 }
    })
}

@inline(__always)
private func foldSameWidth(_ src: UnsafeMutablePointer<Float>, _ g: ConvGeometry, ky: Int, kx: Int, lo: Int, hi: Int,
                           addingInto dst: UnsafeMutablePointer<Float>) {
    let (yLo, yHi, shift, a, b) = sameWidthTap(g, ky: ky, kx: kx)
    zeroEdgeColumns(src, width: g.width, rows: yLo..<yHi, lo: lo, hi: hi)
    if b > a {
        let s = src + a, d = dst + a + shift
        for i in 0..<b - a { d[i] += s[i] }
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
    // Planes in memory order; each sample's per-channel sums are added to the total as they come.
    for n in 0..<samples {
        for c in 0..<channels { gb[c] += spatialSum(g + (n * channels + c) * hw, hw) }
    }
}

/// Sum of a run of floats in 16 independent lanes: the compiler will not reorder a scalar Float
/// reduction, and one dependent add per element runs at a quarter of the load rate.
@inline(__always)
func spatialSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 16 <= count {
        acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    var s = acc.sum()
    while i < count { s += p[i]; i += 1 }
    return s
}
