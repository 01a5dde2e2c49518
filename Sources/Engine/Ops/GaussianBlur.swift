import Foundation

/// Blurs every channel of [N, C, H, W] on its own with a normalised Gaussian of standard deviation
/// `sigma` (pixels), same size out. The kernel defaults to 2*ceil(2*sigma) + 1 taps and must be odd.
///
/// Borders use reflect padding (PyTorch's mode='reflect': the edge pixel is not repeated), the
/// same as torchvision's gaussian_blur, so a blurred image keeps its brightness at the edges.
/// Radii beyond the image side keep reflecting back and forth instead of failing as PyTorch does.
/// Separable: one horizontal and one vertical 1-D pass; the gradient runs the adjoint passes.
public func gaussianBlur(_ x: Tensor, sigma: Float, kernelSize: Int? = nil) -> Tensor {
    precondition(x.rank == 4 && sigma > 0, "gaussianBlur: sigma \(sigma) on \(x.shape)")
    let size = kernelSize ?? 2 * Int((2 * sigma).rounded(.up)) + 1
    precondition(size >= 1 && size % 2 == 1, "gaussianBlur: kernel size \(size) must be odd")
    let weights = gaussianKernel(size: size, sigma: sigma)
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    let rowTaps = reflectTaps(length: w, size: size), colTaps = reflectTaps(length: h, size: size)

    let out = Tensor(uninitialized: x.shape)
    let xs = x.ptr, ys = out.ptr
    forEachPlane(planes, size: h * w, work: x.count * size, through: Buffer(count: x.count)) { o, tmp in
        blurRows(xs + o, into: tmp, height: h, width: w, taps: rowTaps, weights: weights)
        blurColumns(tmp, into: ys + o, height: h, width: w, taps: colTaps, weights: weights)
    }
    return out.withBackward(parents: [x]) { out in
        let g = out.grad!.pointer, gx = x.gradPtr
        forEachPlane(planes, size: h * w, work: x.count * size, through: Buffer.zeroed(x.count)) { o, tmp in
            blurColumnsAdjoint(g + o, into: tmp, height: h, width: w, taps: colTaps, weights: weights)
            blurRowsAdjoint(tmp, into: gx + o, height: h, width: w, taps: rowTaps, weights: weights)
        }
    }
}

/// Runs body(offset, tmp) for every plane of `size` values, split over the cores, with the
/// plane's own stretch of `scratch` (one plane per plane) between the blur's two 1-D passes.
private func forEachPlane(_ planes: Int, size: Int, work: Int, through scratch: Buffer,
                          _ body: (_ offset: Int, _ tmp: UnsafeMutablePointer<Float>) -> Void) {
    withExtendedLifetime(scratch) {
        let tmp = scratch.pointer
        parallelFor(planes, work: work) { p in body(p * size, tmp + p * size) }
    }
}

/// torchvision's 1-D kernel: exp(-x^2 / (2 sigma^2)) at integer offsets, normalised to sum 1.
func gaussianKernel(size: Int, sigma: Float) -> [Float] {
    let half = Float(size - 1) / 2
    let pdf = (0..<size).map { i -> Float in
        let t = (Float(i) - half) / sigma
        return expf(-0.5 * t * t)
    }
    let sum = pdf.reduce(0, +)
    return pdf.map { $0 / sum }
}

/// Source index of tap k for each output position i: reflect(i + k - radius), folded as often as
/// needed to land inside 0..<length.
func reflectTaps(length: Int, size: Int) -> [Int] {
    let r = size / 2, period = 2 * (length - 1)
    var taps = [Int](repeating: 0, count: length * size)
    for i in 0..<length {
        for k in 0..<size {
            var j = i + k - r
            if period == 0 { j = 0 } else {
                j = ((j % period) + period) % period
                if j >= length { j = period - j }
            }
            taps[i * size + k] = j
        }
    }
    return taps
}

func blurRows(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, height: Int, width: Int,
              taps: [Int], weights: [Float]) {
    let size = weights.count
    taps.withUnsafeBufferPointer { t in
        weights.withUnsafeBufferPointer { wk in
            for y in 0..<height {
                let s = src + y * width, d = dst + y * width
                for i in 0..<width {
                    var acc: Float = 0
                    for k in 0..<size { acc += wk[k] * s[t[i * size + k]] }
                    d[i] = acc
                }
            }
        }
    }
}

func blurRowsAdjoint(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, height: Int, width: Int,
                     taps: [Int], weights: [Float]) {
    let size = weights.count
    taps.withUnsafeBufferPointer { t in
        weights.withUnsafeBufferPointer { wk in
            for y in 0..<height {
                let s = src + y * width, d = dst + y * width
                for i in 0..<width {
                    let v = s[i]
                    for k in 0..<size { d[t[i * size + k]] += wk[k] * v }
                }
            }
        }
    }
}

func blurColumns(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, height: Int, width: Int,
                 taps: [Int], weights: [Float]) {
    let size = weights.count
    for y in 0..<height {
        let d = dst + y * width
        d.update(repeating: 0, count: width)
        for k in 0..<size {
            let s = src + taps[y * size + k] * width, wk = weights[k]
            for i in 0..<width { d[i] += wk * s[i] }
        }
    }
}

func blurColumnsAdjoint(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, height: Int, width: Int,
                        taps: [Int], weights: [Float]) {
    let size = weights.count
    for y in 0..<height {
        let s = src + y * width
        for k in 0..<size {
            let d = dst + taps[y * size + k] * width, wk = weights[k]
            for i in 0..<width { d[i] += wk * s[i] }
        }
    }
}
