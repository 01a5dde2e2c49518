import Engine

/// The priors of CaG's objective, as functions of a batch's features and labels. Samples of a
/// class are grouped through constant one-hot matrices, so every term is a composite of engine
/// ops and differentiates back to the images without code of its own.
public enum CaGLosses {
    /// The classes present in `labels` (in first-seen order) and each sample's group index.
    static func groups(_ labels: [Int]) -> (classes: [Int], index: [Int], sizes: [Int]) {
        var classes: [Int] = [], index: [Int] = [], sizes: [Int] = []
        var slot: [Int: Int] = [:]
        for y in labels {
            if let g = slot[y] { index.append(g); sizes[g] += 1 } else {
                slot[y] = classes.count; index.append(classes.count); classes.append(y); sizes.append(1)
            }
        }
        return (classes, index, sizes)
    }

    /// [G, N] with row g holding `weight(g)` at the samples of group g.
    static func groupMatrix(index: [Int], groups: Int, weight: (Int) -> Float) -> Tensor {
        let n = index.count
        let a = Tensor(zeros: [groups, n])
        for (i, g) in index.enumerated() { a.ptr[g * n + i] = weight(g) }
        return a
    }

    /// [N, G] one-hot: sample i -> its group.
    static func membership(index: [Int], groups: Int) -> Tensor {
        let b = Tensor(zeros: [index.count, groups])
        for (i, g) in index.enumerated() { b.ptr[i * groups + g] = 1 }
        return b
    }

    /// Eq. 4 as a mean: the cosine similarity of h over every ordered pair i != j of the same class,
    /// averaged over those pairs. The paper's raw dot product is unbounded below only by driving the
    /// (ReLU) features to zero, which fights the classification loss; the cosine asks only that
    /// samples of a class point different ways. For a class with sum s of unit rows,
    /// sum_{i != j} z_i . z_j = |s|^2 - sum_i |z_i|^2. Nil when no class has two samples.
    public static func diversity(_ h: Tensor, labels: [Int]) -> Tensor? {
        let (classes, index, sizes) = groups(labels)
        let pairs = sizes.reduce(0) { $0 + $1 * ($1 - 1) }
        guard pairs > 0 else { return nil }
        let z = l2Normalize(h)
        let s = matmul(groupMatrix(index: index, groups: classes.count) { _ in 1 }, z)
        return (sum(square(s)) - sum(square(z))) / Float(pairs)
    }

    /// Eq. 6-7: per class in the batch, the squared distance of the batch's feature mean to mu_c
    /// plus that of its (unbiased) feature standard deviation to sigma_c, each averaged over the D
    /// features (the paper sums; the mean keeps one weight meaningful across architectures), then
    /// averaged over the classes present. The paper's S_c is written as a variance but compared
    /// with sigma_c; this compares standard deviations. Classes with one sample are skipped (no
    /// spread to measure); nil when none has two.
    public static func distribution(_ h: Tensor, labels: [Int], classMean: [Float], classStd: [Float]) -> Tensor? {
        let (classes, index, sizes) = groups(labels)
        let usable = sizes.indices.filter { sizes[$0] >= 2 }
        guard !usable.isEmpty else { return nil }
        let g = classes.count, d = h.shape[1]
        let avg = groupMatrix(index: index, groups: g) { 1 / Float(sizes[$0]) }
        let mean = matmul(avg, h)                                            // [G, D]
        let centred = h - matmul(membership(index: index, groups: g), mean)  // [N, D]
        // Unbiased: sum of squares / (n - 1) = mean of squares * n / (n - 1); one-sample groups get 0.
        let unbias = Tensor(sizes.map { $0 > 1 ? Float($0) / Float($0 - 1) : 0 }, shape: [g, 1])
        let std = sqrt(matmul(avg, square(centred)) * unbias + 1e-8)
        let mu = Tensor(zeros: [g, d]), sigma = Tensor(zeros: [g, d]), weight = Tensor(zeros: [g, 1])
        for k in usable {
            let c = classes[k]
            for j in 0..<d { mu.ptr[k * d + j] = classMean[c * d + j]; sigma.ptr[k * d + j] = classStd[c * d + j] }
            weight.ptr[k] = 1 / Float(usable.count * d)
        }
        return sum((square(mean - mu) + square(std - sigma)) * weight)
    }

    /// DeepInversion's prior for one batch-norm layer's input x [N, C, ...]: the L2 distances of the
    /// batch's channel means and (biased) variances to target ones.
    /// - per class: `classMean`/`classVar` [K, C] from the training data; each class in the batch
    ///   is compared with its own statistics and the distances averaged over the classes;
    /// - running (`classMean` nil): the whole batch against the layer's running statistics.
    public static func batchNormStatistics(_ x: Tensor, labels: [Int], runningMean: Tensor, runningVar: Tensor,
                                           classMean: [Float]?, classVar: [Float]?) -> Tensor {
        let n = x.shape[0], c = x.shape[1]
        let spatial = Array(2..<x.rank)
        let m1 = spatial.isEmpty ? x : mean(x, axes: spatial)                     // [N, C]
        let m2 = spatial.isEmpty ? square(x) : mean(square(x), axes: spatial)     // [N, C]
        if let classMean, let classVar {
            let (classes, index, sizes) = groups(labels)
            let g = classes.count
            let avg = groupMatrix(index: index, groups: g) { 1 / Float(sizes[$0]) }
            let mu = matmul(avg, m1), second = matmul(avg, m2)                    // [G, C]
            let variance = second - square(mu)
            let tm = Tensor(zeros: [g, c]), tv = Tensor(zeros: [g, c])
            for (k, cls) in classes.enumerated() {
                for j in 0..<c { tm.ptr[k * c + j] = classMean[cls * c + j]; tv.ptr[k * c + j] = classVar[cls * c + j] }
            }
            let dm = sqrt(sum(square(mu - tm), axes: [1]) + 1e-8)
            let dv = sqrt(sum(square(variance - tv), axes: [1]) + 1e-8)
            return sum(dm + dv) / Float(g)
        }
        let avg = Tensor(filled: 1 / Float(n), shape: [1, n])
        let mu = matmul(avg, m1), variance = matmul(avg, m2) - square(mu)         // [1, C]
        let dm = sqrt(sum(square(mu - runningMean.reshaped([1, c]))) + 1e-8)
        let dv = sqrt(sum(square(variance - runningVar.reshaped([1, c]))) + 1e-8)
        return dm + dv
    }

    /// Each sample's features against its own target: the mean squared distance, over the mean
    /// class variance of the features (so one weight means the same for any classifier).
    public static func featureTarget(_ h: Tensor, target: Tensor, labels: [Int], classStd: [Float]) -> Tensor {
        let d = h.shape[1]
        var variance = 0.0
        for y in labels { for j in 0..<d { variance += Double(classStd[y * d + j] * classStd[y * d + j]) } }
        let scale = Float(variance / Double(labels.count * d)) + 1e-6
        return mean(square(h - target)) / scale
    }

    /// DeepInversion's smoothness prior: the mean squared difference between each pixel and its
    /// right and lower neighbours, over images [N, C, H, W] in [0, 1]. Inversion alone fills x with
    /// high-frequency stripes a classifier likes and another classifier does not; natural images
    /// (and Fashion-MNIST's flat black background) are mostly smooth. One 2x2 difference
    /// convolution per direction and channel, so the gradient is the conv's.
    public static func totalVariation(_ image: Tensor) -> Tensor {
        let c = image.shape[1]
        let w = Tensor(zeros: [2 * c, c, 2, 2])
        for ch in 0..<c {
            let horizontal = (2 * ch) * c + ch, vertical = (2 * ch + 1) * c + ch
            w.ptr[horizontal * 4 + 0] = -1; w.ptr[horizontal * 4 + 1] = 1   // x[y][x+1] - x[y][x]
            w.ptr[vertical * 4 + 0] = -1; w.ptr[vertical * 4 + 2] = 1       // x[y+1][x] - x[y][x]
        }
        return mean(square(conv2d(image, w, nil)))
    }
}
