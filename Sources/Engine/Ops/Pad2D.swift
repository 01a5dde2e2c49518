/// Pads (or, with negative amounts, crops) the two spatial axes of x [N, C, H, W] by different
/// amounts on each side, filling with `value`: [N, C, H + top + bottom, W + left + right].
/// What ONNX's asymmetric conv and pool padding needs (auto_pad SAME with an even kernel,
/// pads = [0, 0, 1, 1]); max pooling pads with -infinity so a pad never wins. The gradient flows
/// to the input positions that survive into the output.
public func pad2d(_ x: Tensor, top: Int, bottom: Int, left: Int, right: Int, value: Float = 0) -> Tensor {
    precondition(x.rank == 4, "pad2d: \(x.shape) is not NCHW")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    let oh = h + top + bottom, ow = w + left + right
    precondition(oh > 0 && ow > 0, "pad2d: \(x.shape) padded by (\(top), \(bottom), \(left), \(right)) is empty")
    let out = Tensor(filled: value, shape: [x.shape[0], x.shape[1], oh, ow])
    // Rows and columns of the output that hold input values, and where they come from.
    let rowStart = max(0, top), rowEnd = min(oh, top + h)
    let colStart = max(0, left), colEnd = min(ow, left + w)
    let cols = max(0, colEnd - colStart)
    let xs = x.ptr, ys = out.ptr
    if rowEnd > rowStart && cols > 0 {
        for p in 0..<planes {
            for r in rowStart..<rowEnd {
                (ys + p * oh * ow + r * ow + colStart).update(from: xs + p * h * w + (r - top) * w + (colStart - left), count: cols)
            }
        }
    }
    return out.withBackward(parents: [x]) { out in
        guard rowEnd > rowStart && cols > 0 else { return }
        let g = out.grad!.pointer, gx = x.gradPtr
        for p in 0..<planes {
            for r in rowStart..<rowEnd {
                let s = g + p * oh * ow + r * ow + colStart, d = gx + p * h * w + (r - top) * w + (colStart - left)
                for j in 0..<cols { d[j] += s[j] }
            }
        }
    }
}
