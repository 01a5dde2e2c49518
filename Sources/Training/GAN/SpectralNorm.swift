import Engine
import Support

/// Spectral normalisation of one weight (Miyato et al. 2018), as torch.nn.utils.spectral_norm
/// with one power iteration: the weight seen as a matrix W [rows, cols] (rows = dim 0) is divided
/// by sigma = u^T W v, where u and v estimate its leading singular vectors.
///
/// Training forward passes first refine u and v by one power iteration (v = W^T u / |.|,
/// u = W v / |.|, in place, never differentiated), then divide; evaluation passes reuse the stored
/// u and v. Gradients flow through sigma with u and v held constant (d sigma / dW = u v^T), as in
/// PyTorch. State names follow PyTorch: `weight_orig` (the parameter), `weight_u`, `weight_v`.
public final class SpectralNormWeight {
    public let weightOrig: Tensor
    public let u: Tensor
    public let v: Tensor
    public let rows: Int, cols: Int
    static let eps: Float = 1e-12

    public init(_ weight: Tensor, rng: inout RNG) {
        weightOrig = weight
        rows = weight.shape[0]
        cols = weight.count / rows
        u = Tensor(zeros: [rows])
        v = Tensor(zeros: [cols])
        rng.fillNormal(u.ptr, count: rows)
        rng.fillNormal(v.ptr, count: cols)
        SpectralNormWeight.normalize(u.ptr, rows)
        SpectralNormWeight.normalize(v.ptr, cols)
    }

    /// The state entries with PyTorch's names (`weight_orig` is the trained parameter).
    public var state: [StateEntry] {
        [StateEntry("weight_orig", weightOrig),
         StateEntry("weight_u", u, isParameter: false),
         StateEntry("weight_v", v, isParameter: false)]
    }

    /// x / max(|x|, eps), PyTorch's F.normalize; sums in Double so the result does not depend on
    /// how a compiler vectorises the loop.
    static func normalize(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        var s = 0.0
        for i in 0..<n { s += Double(x[i]) * Double(x[i]) }
        let d = Swift.max(Float(s.squareRoot()), eps)
        for i in 0..<n { x[i] /= d }
    }

    /// One power iteration on the current weight, updating u and v in place.
    public func powerIteration() {
        let w = weightOrig.ptr, up = u.ptr, vp = v.ptr
        let acc = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(rows, cols))
        defer { acc.deallocate() }
        // v = W^T u
        acc.initialize(repeating: 0, count: cols)
        for r in 0..<rows {
            let ur = Double(up[r]), row = w + r * cols
            for c in 0..<cols { acc[c] += ur * Double(row[c]) }
        }
        for c in 0..<cols { vp[c] = Float(acc[c]) }
        SpectralNormWeight.normalize(vp, cols)
        // u = W v
        for r in 0..<rows {
            var s = 0.0
            let row = w + r * cols
            for c in 0..<cols { s += Double(row[c]) * Double(vp[c]) }
            up[r] = Float(s)
        }
        SpectralNormWeight.normalize(up, rows)
    }

    /// W / sigma for this forward pass (after a power iteration when `training`).
    public func weight(training: Bool) -> Tensor {
        if training { powerIteration() }
        // sigma = sum(W * u v^T): u v^T is a constant, so the gradient reaching W through sigma
        // is exactly PyTorch's (u and v are detached clones there too).
        let uv = Tensor(uninitialized: weightOrig.shape)
        let up = u.ptr, vp = v.ptr, o = uv.ptr
        for r in 0..<rows {
            let ur = up[r], row = o + r * cols
            for c in 0..<cols { row[c] = ur * vp[c] }
        }
        let sigma = sum(weightOrig * uv)
        return weightOrig / sigma
    }
}

/// nn.Conv2d under spectral_norm: state bias, weight_orig, weight_u, weight_v.
public final class SNConv2d: Layer {
    public let sn: SpectralNormWeight
    public let bias: Tensor?
    public let stride: Int, padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout RNG) {
        let conv = Conv2d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, bias: bias, rng: &rng)
        sn = SpectralNormWeight(conv.weight, rng: &rng)
        self.bias = conv.bias
        self.stride = stride; self.padding = padding
    }

    public override var ownState: [StateEntry] { (bias.map { [StateEntry("bias", $0)] } ?? []) + sn.state }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, sn.weight(training: isTraining), bias, stride: stride, padding: padding)
    }

    /// This 3x3 "same" convolution followed by 2x2 average pooling, as one stride-2 convolution
    /// (`conv2dAvgPool2x`): the discriminator's down-sampling blocks.
    public func pooled(_ x: Tensor) -> Tensor {
        precondition(stride == 1 && padding == 1, "SNConv2d.pooled needs a 3x3 conv with padding 1")
        return conv2dAvgPool2x(x, sn.weight(training: isTraining), bias)
    }
}

/// nn.Linear under spectral_norm.
public final class SNLinear: Layer {
    public let sn: SpectralNormWeight
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RNG) {
        let l = Linear(inFeatures, outFeatures, bias: bias, rng: &rng)
        sn = SpectralNormWeight(l.weight, rng: &rng)
        self.bias = l.bias
    }

    public override var ownState: [StateEntry] { (bias.map { [StateEntry("bias", $0)] } ?? []) + sn.state }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        linear(x, sn.weight(training: isTraining), bias)
    }
}

/// nn.Embedding under spectral_norm (dim 0: the table [classes, dim] is the matrix), the class
/// embedding of a projection discriminator.
public final class SNEmbedding: Layer {
    public let sn: SpectralNormWeight

    public init(_ count: Int, _ dim: Int, rng: inout RNG) {
        sn = SpectralNormWeight(Embedding(count, dim, rng: &rng).weight, rng: &rng)
    }

    public override var ownState: [StateEntry] { sn.state }

    public func callAsFunction(_ indices: [Int]) -> Tensor {
        embedding(sn.weight(training: isTraining), indices)
    }
}
