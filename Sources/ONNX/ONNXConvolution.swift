import Engine

/// Conv and ConvTranspose on Engine's dense kernels. The weights are frozen, so what Engine's
/// convolutions lack is rewritten once at import into an equivalent dense kernel: groups
/// (depthwise included) become a block-diagonal weight, dilation a kernel with zeros between the
/// taps. Asymmetric padding (auto_pad SAME with an even kernel, explicit pads) becomes a pad2d
/// before the convolution (after it, cropping, for ConvTranspose).
enum ONNXConvolution {
    /// The attributes both operators share, checked for the 2-D case.
    struct Geometry {
        let stride: Int
        let dilation: Int
        let groups: Int
        /// [top, left, bottom, right] (ONNX's begin-then-end order), unless autoPad says otherwise.
        let pads: [Int]
        let autoPad: String

        init(_ ctx: inout ONNXNodeContext, kernel: [Int]) throws {
            let strides = try ctx.attributes.ints("strides") ?? [1, 1]
            let dilations = try ctx.attributes.ints("dilations") ?? [1, 1]
            pads = try ctx.attributes.ints("pads") ?? [0, 0, 0, 0]
            autoPad = try ctx.attributes.string("auto_pad", default: "NOTSET")
            groups = try ctx.attributes.int("group", default: 1)
            if let shape = try ctx.attributes.ints("kernel_shape"), shape != kernel {
                throw ONNXProblem("kernel_shape \(shape) does not match the weight's \(kernel)")
            }
            guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
                throw ONNXProblem("is not a 2-D convolution (strides \(strides), pads \(pads)); synth maps 2-D only")
            }
            guard strides[0] == strides[1], strides[0] >= 1 else { throw ONNXProblem("strides \(strides): synth needs the same stride on both axes") }
            guard dilations[0] == dilations[1], dilations[0] >= 1 else { throw ONNXProblem("dilations \(dilations): synth needs the same dilation on both axes") }
            guard pads.allSatisfy({ $0 >= 0 }) else { throw ONNXProblem("negative pads \(pads)") }
            guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else { throw ONNXProblem("auto_pad '\(autoPad)' is not an ONNX value") }
            guard groups >= 1 else { throw ONNXProblem("group \(groups)") }
            stride = strides[0]; dilation = dilations[0]
        }

        /// [top, left, bottom, right] for an input of h x w and a (dilated) kernel kh x kw.
        func padding(height h: Int, width w: Int, kh: Int, kw: Int) -> [Int] {
            switch autoPad {
            case "VALID": return [0, 0, 0, 0]
            case "SAME_UPPER", "SAME_LOWER":
                // Output ceil(in / stride); the odd pixel goes to the end (UPPER) or the start (LOWER).
                func split(_ size: Int, _ k: Int) -> (Int, Int) {
                    let out = (size + stride - 1) / stride
                    let total = max(0, (out - 1) * stride + k - size)
                    let small = total / 2
                    return autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
                }
                let (t, b) = split(h, kh), (l, r) = split(w, kw)
                return [t, l, b, r]
            default: return pads
            }
        }
    }

    static func conv(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        let weight = try ctx.constantFloat(1, "weight")
        guard weight.rank == 4 else { throw ONNXProblem("weight \(weight.shape) is not [out, in/group, kh, kw]: synth maps 2-D convolutions only") }
        let geometry = try Geometry(&ctx, kernel: [weight.shape[2], weight.shape[3]])
        let bias = ctx.hasInput(2) ? try ctx.constantFloat(2, "bias") : nil
        let cout = weight.shape[0], g = geometry.groups
        guard cout % g == 0 else { throw ONNXProblem("\(cout) output channels do not split into \(g) groups") }
        if let bias, bias.count != cout { throw ONNXProblem("bias of \(bias.count) for \(cout) output channels") }
        try checkDense(weight, groups: g, dilation: geometry.dilation)
        let dense = dilated(grouped(weight, groups: g), by: geometry.dilation)
        let cin = dense.shape[1], kh = dense.shape[2], kw = dense.shape[3], stride = geometry.stride
        return { inputs in
            var x = try ONNXOperators.floatInput(inputs, 0)
            guard x.rank == 4, x.shape[1] == cin else { throw ONNXProblem("input \(x.shape) does not have the weight's \(cin) input channels") }
            let p = geometry.padding(height: x.shape[2], width: x.shape[3], kh: kh, kw: kw)
            var padding = p[0]
            try checkSize([x.shape[0], cin, x.shape[2] + p[0] + p[2], x.shape[3] + p[1] + p[3]], "its padded input")
            if !(p[0] == p[1] && p[1] == p[2] && p[2] == p[3]) {
                x = pad2d(x, top: p[0], bottom: p[2], left: p[1], right: p[3])
                padding = 0
            }
            guard x.shape[2] + 2 * padding >= kh, x.shape[3] + 2 * padding >= kw else {
                throw ONNXProblem("kernel \(kh)x\(kw) is larger than the padded input \(x.shape)")
            }
            let outH = (x.shape[2] + 2 * padding - kh) / stride + 1, outW = (x.shape[3] + 2 * padding - kw) / stride + 1
            try checkSize([x.shape[0], cout, outH, outW], "its output")
            try checkSize([cin * kh * kw, outH * outW], "its column matrix")
            return [.float(conv2d(x, dense, bias, stride: stride, padding: padding))]
        }
    }

    static func convTranspose(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        let weight = try ctx.constantFloat(1, "weight")
        guard weight.rank == 4 else { throw ONNXProblem("weight \(weight.shape) is not [in, out/group, kh, kw]: synth maps 2-D only") }
        let geometry = try Geometry(&ctx, kernel: [weight.shape[2], weight.shape[3]])
        let outputPadding = try ctx.attributes.ints("output_padding") ?? [0, 0]
        if try ctx.attributes.ints("output_shape") != nil { throw ONNXProblem("output_shape is not supported (give pads)") }
        guard geometry.autoPad == "NOTSET" || geometry.autoPad == "VALID" else { throw ONNXProblem("auto_pad \(geometry.autoPad) is not supported (give pads)") }
        guard outputPadding.count == 2, outputPadding.allSatisfy({ $0 >= 0 && $0 < max(geometry.stride, geometry.dilation) }) else {
            throw ONNXProblem("output_padding \(outputPadding)")
        }
        let bias = ctx.hasInput(2) ? try ctx.constantFloat(2, "bias") : nil
        let cin = weight.shape[0], g = geometry.groups
        guard cin % g == 0 else { throw ONNXProblem("\(cin) input channels do not split into \(g) groups") }
        try checkDense(weight, groups: g, dilation: geometry.dilation)
        let dense = dilated(grouped(weight, groups: g), by: geometry.dilation)
        let cout = dense.shape[1], stride = geometry.stride
        if let bias, bias.count != cout { throw ONNXProblem("bias of \(bias.count) for \(cout) output channels") }
        let p = geometry.autoPad == "VALID" ? [0, 0, 0, 0] : geometry.pads
        let symmetric = p.allSatisfy { $0 == p[0] } && outputPadding[0] == outputPadding[1] && outputPadding[0] < stride
        return { inputs in
            let x = try ONNXOperators.floatInput(inputs, 0)
            guard x.rank == 4, x.shape[1] == cin else { throw ONNXProblem("input \(x.shape) does not have the weight's \(cin) input channels") }
            if symmetric {
                let outH = (x.shape[2] - 1) * stride - 2 * p[0] + dense.shape[2] + outputPadding[0]
                let outW = (x.shape[3] - 1) * stride - 2 * p[0] + dense.shape[3] + outputPadding[0]
                guard outH > 0, outW > 0 else { throw ONNXProblem("input \(x.shape) gives an empty output") }
                try checkSize([x.shape[0], cout, outH, outW], "its output")
                return [.float(convTranspose2d(x, dense, bias, stride: stride, padding: p[0], outputPadding: outputPadding[0]))]
            }
            // The full output, then its pads cropped (and output_padding rows added) on each side.
            try checkSize([x.shape[0], cout, (x.shape[2] - 1) * stride + dense.shape[2] + outputPadding[0],
                           (x.shape[3] - 1) * stride + dense.shape[3] + outputPadding[1]], "its output")
            let full = convTranspose2d(x, dense, nil, stride: stride)
            let top = -p[0], left = -p[1], bottom = outputPadding[0] - p[2], right = outputPadding[1] - p[3]
            guard full.shape[2] + top + bottom > 0, full.shape[3] + left + right > 0 else { throw ONNXProblem("input \(x.shape) gives an empty output") }
            let y = pad2d(full, top: top, bottom: bottom, left: left, right: right)
            guard let bias else { return [.float(y)] }
            return [.float(y + bias.reshaped([1, cout, 1, 1]))]
        }
    }

    /// Refuses a rewrite whose dense kernel would be larger than synth computes.
    static func checkDense(_ w: Tensor, groups g: Int, dilation d: Int) throws {
        let (kh, overflowH) = (w.shape[2] - 1).multipliedReportingOverflow(by: d)
        let (kw, overflowW) = (w.shape[3] - 1).multipliedReportingOverflow(by: d)
        guard !overflowH, !overflowW else { throw ONNXProblem("dilation \(d) is too large") }
        try checkSize([w.shape[0], w.shape[1], g, kh + 1, kw + 1], "its kernel made dense (groups \(g), dilation \(d))")
    }

    /// A grouped weight as the dense one it equals: zeros where an output channel does not see
    /// an input channel. Both operators keep axis 0 whole and axis 1 divided by the groups (Conv
    /// [out, in/g], ConvTranspose [in, out/g]); index i of axis 0 belongs to group i / (axis0 / g).
    static func grouped(_ w: Tensor, groups g: Int) -> Tensor {
        guard g > 1 else { return w }
        let kk = w.shape[2] * w.shape[3]
        let whole = w.shape[0], part = w.shape[1]
        let wholePerGroup = whole / g
        let dense = Tensor(zeros: [whole, part * g, w.shape[2], w.shape[3]])
        for i in 0..<whole {
            let group = i / wholePerGroup
            for j in 0..<part {
                (dense.ptr + (i * part * g + group * part + j) * kk).update(from: w.ptr + (i * part + j) * kk, count: kk)
            }
        }
        return dense
    }

    /// A dilated kernel as the plain one it equals: (k - 1) * d + 1 taps, zeros between the originals.
    static func dilated(_ w: Tensor, by d: Int) -> Tensor {
        guard d > 1 else { return w }
        let kh = w.shape[2], kw = w.shape[3], dh = (kh - 1) * d + 1, dw = (kw - 1) * d + 1
        let planes = w.shape[0] * w.shape[1]
        let out = Tensor(zeros: [w.shape[0], w.shape[1], dh, dw])
        for p in 0..<planes {
            for i in 0..<kh { for j in 0..<kw { out.ptr[p * dh * dw + i * d * dw + j * d] = w.ptr[p * kh * kw + i * kw + j] } }
        }
        return out
    }
}
