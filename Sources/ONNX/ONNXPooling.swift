import Engine

/// MaxPool, AveragePool and GlobalAveragePool on Engine's square pooling kernels. Padding is a
/// pad2d first (-infinity for max pooling, so a pad never wins); ceil_mode adds end padding for
/// the last partial window, as PyTorch does; AveragePool without count_include_pad divides each
/// window by the inputs it covers, through a per-position factor computed from a mask of ones.
enum ONNXPooling {
    static func pool(_ ctx: inout ONNXNodeContext) throws -> ONNXKernel {
        let isMax = ctx.node.opType == "MaxPool"
        guard let kernelShape = try ctx.attributes.ints("kernel_shape") else { throw ONNXProblem("needs kernel_shape") }
        guard kernelShape.count == 2 else { throw ONNXProblem("kernel_shape \(kernelShape): synth maps 2-D pooling only") }
        guard kernelShape[0] == kernelShape[1], kernelShape[0] >= 1 else { throw ONNXProblem("kernel_shape \(kernelShape): synth pools square windows only") }
        let k = kernelShape[0]
        let strides = try ctx.attributes.ints("strides") ?? [1, 1]
        guard strides.count == 2, strides[0] == strides[1], strides[0] >= 1 else { throw ONNXProblem("strides \(strides): synth needs the same stride on both axes") }
        let s = strides[0]
        let pads = try ctx.attributes.ints("pads") ?? [0, 0, 0, 0]
        guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 < k }) else { throw ONNXProblem("pads \(pads) for a \(k)x\(k) window") }
        let autoPad = try ctx.attributes.string("auto_pad", default: "NOTSET")
        guard autoPad == "NOTSET" || autoPad == "VALID" else { throw ONNXProblem("auto_pad \(autoPad) is not supported for pooling (give pads)") }
        let ceil = try ctx.attributes.int("ceil_mode", default: 0) != 0
        if let d = try ctx.attributes.ints("dilations"), d.contains(where: { $0 != 1 }) { throw ONNXProblem("dilations \(d) are not supported for pooling") }
        let countPads = isMax ? false : try ctx.attributes.int("count_include_pad", default: 0) != 0
        if isMax {
            _ = try ctx.attributes.int("storage_order", default: 0)
            guard ctx.node.output.count < 2 || ctx.node.output[1].isEmpty else { throw ONNXProblem("its Indices output is not supported") }
        }
        let p = autoPad == "VALID" ? [0, 0, 0, 0] : pads
        return { inputs in
            let x = try ONNXOperators.floatInput(inputs, 0)
            guard x.rank == 4 else { throw ONNXProblem("input \(x.shape) is not [N, C, H, W]") }
            // End padding ceil_mode adds: the last window must still start inside the input or its begin padding.
            func extra(_ size: Int, _ begin: Int, _ end: Int) -> Int {
                let span = size + begin + end
                guard ceil, span >= k else { return 0 }
                var out = (span - k + s - 1) / s + 1
                if (out - 1) * s >= size + begin { out -= 1 }
                return max(0, (out - 1) * s + k - span)
            }
            let eh = extra(x.shape[2], p[0], p[2]), ew = extra(x.shape[3], p[1], p[3])
            let top = p[0], left = p[1], bottom = p[2] + eh, right = p[3] + ew
            guard x.shape[2] + top + bottom >= k, x.shape[3] + left + right >= k else {
                throw ONNXProblem("window \(k)x\(k) is larger than the padded input \(x.shape)")
            }
            try checkSize([x.shape[0], x.shape[1], x.shape[2] + top + bottom, x.shape[3] + left + right], "its padded input")
            let padded = top + bottom + left + right == 0 ? x
                : pad2d(x, top: top, bottom: bottom, left: left, right: right, value: isMax ? -Float.infinity : 0)
            if isMax { return [.float(maxPool2d(padded, kernel: k, stride: s))] }
            let y = avgPool2d(padded, kernel: k, stride: s)
            guard top + bottom + left + right > 0 else { return [.float(y)] }
            if countPads {
                guard eh == 0 && ew == 0 else { throw ONNXProblem("ceil_mode with count_include_pad is not supported") }
                return [.float(y)]
            }
            // Each output divided by the share of its window that covers the input.
            let coverage = Autodiff.withoutGrad {
                avgPool2d(pad2d(Tensor(filled: 1, shape: [1, 1, x.shape[2], x.shape[3]]), top: top, bottom: bottom, left: left, right: right), kernel: k, stride: s)
            }
            let factor = Tensor(uninitialized: coverage.shape)
            for i in 0..<factor.count { factor.ptr[i] = 1 / coverage.ptr[i] }
            return [.float(y * factor)]
        }
    }

    /// [N, C, H, W] -> [N, C, 1, 1].
    static func globalAverage() -> ONNXKernel {
        { inputs in
            let x = try ONNXOperators.floatInput(inputs, 0)
            guard x.rank == 4 else { throw ONNXProblem("input \(x.shape) is not [N, C, H, W]") }
            return [.float(globalAveragePool(x).reshaped([x.shape[0], x.shape[1], 1, 1]))]
        }
    }
}
