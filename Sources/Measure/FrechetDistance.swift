import Datasets
import Engine
import Models
import Support
import Training

/// Mean and covariance of a set of feature vectors (Double).
public struct GaussianStatistics: Sendable {
    public let dim: Int
    public let count: Int
    public let mean: [Double]
    /// dim x dim, row-major, unbiased (divided by count - 1, as numpy.cov).
    public let covariance: [Double]

    /// Statistics of `count` rows of `dim` features.
    public init(features x: UnsafePointer<Float>, count n: Int, dim d: Int) {
        precondition(n >= 2 && d >= 1, "GaussianStatistics: \(n) samples of \(d) features")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var cov = [Double](repeating: 0, count: d * d)
        var row = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { row[j] = Double(x[i * d + j]) - mean[j] }
            for a in 0..<d where row[a] != 0 {
                let ra = row[a]
                for b in a..<d { cov[a * d + b] += ra * row[b] }
            }
        }
        for a in 0..<d {
            for b in a..<d {
                let v = cov[a * d + b] / Double(n - 1)
                cov[a * d + b] = v; cov[b * d + a] = v
            }
        }
        self.dim = d; self.count = n; self.mean = mean; self.covariance = cov
    }
}

/// The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017):
///   |mu_a - mu_b|^2 + tr(A) + tr(B) - 2 tr((A B)^(1/2)).
/// FID proper uses Inception-v3 pool features, which are not available here; synth computes the
/// same distance in the penultimate features of a classifier trained on the real data (e.g. a
/// ref-cnn), and names it for that classifier. Values are only comparable under one feature model.
public enum FrechetDistance {
    public static func distance(_ a: GaussianStatistics, _ b: GaussianStatistics) -> Double {
        precondition(a.dim == b.dim, "FrechetDistance: \(a.dim) vs \(b.dim) features")
        let d = a.dim
        var meanTerm = 0.0
        for j in 0..<d { let t = a.mean[j] - b.mean[j]; meanTerm += t * t }
        var trace = 0.0
        for j in 0..<d { trace += a.covariance[j * d + j] + b.covariance[j * d + j] }
        return meanTerm + trace - 2 * traceSqrtProduct(a.covariance, b.covariance, n: d)
    }

    /// tr((A B)^(1/2)) for symmetric positive semi-definite A and B: A B is similar to
    /// A^(1/2) B A^(1/2), which is symmetric PSD, so the trace is the sum of the square roots of
    /// that matrix's eigenvalues (negative round-off clamped to 0).
    static func traceSqrtProduct(_ a: [Double], _ b: [Double], n: Int) -> Double {
        let (values, vectors) = symmetricEigen(a, n: n)
        // A^(1/2) = V diag(sqrt(l)) V^T
        var rootA = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let s = max(values[k], 0).squareRoot()
            if s == 0 { continue }
            for i in 0..<n {
                let vik = vectors[i * n + k] * s
                for j in 0..<n { rootA[i * n + j] += vik * vectors[j * n + k] }
            }
        }
        let m = multiply(multiply(rootA, b, n), rootA, n)
        var sym = m
        for i in 0..<n { for j in 0..<n { sym[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]) } }
        return symmetricEigen(sym, n: n).values.reduce(0) { $0 + max($1, 0).squareRoot() }
    }

    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n where a[i * n + k] != 0 {
                let aik = a[i * n + k]
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }

    /// Eigenvalues and eigenvectors (columns of the row-major `vectors`) of a symmetric matrix by
    /// cyclic Jacobi rotations in Double: slow in theory, instant at the 128 x 128 used here,
    /// accurate to round-off, and free of any LAPACK dependency.
    static func symmetricEigen(_ input: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
        var a = input
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        var scale = 0.0
        for x in a { scale = max(scale, abs(x)) }
        if scale == 0 { return ([Double](repeating: 0, count: n), v) }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<n { off += a[i * n + j] * a[i * n + j] } }
            if off.squareRoot() <= 1e-15 * scale * Double(n) { break }
            for p in 0..<n {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if abs(apq) <= 1e-300 { continue }
                    let app = a[p * n + p], aqq = a[q * n + q]
                    let theta = (aqq - app) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    // Rotate rows/columns p and q of A, and columns of V.
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}

/// Penultimate features of a classifier over images.
public enum ClassifierFeatures {
    /// Features of every image of `data` ([count * featureDimension], row per image).
    public static func of(_ model: Classifier, data: Dataset, batchSize: Int = 500) throws -> [Float] {
        guard data.channels == model.card.channels, data.height == model.card.height, data.width == model.card.width else {
            throw SynthError("\(data.name): images are \(data.channels)x\(data.height)x\(data.width), the feature model expects \(model.card.inputShape.map(String.init).joined(separator: "x"))")
        }
        model.eval()
        let d = model.featureDimension
        var out = [Float](repeating: 0, count: data.count * d)
        Autodiff.withoutGrad {
            data.forEachBatch(size: batchSize, normalisedFor: model.card) { idx, x in
                let h = model.features(x)
                out.withUnsafeMutableBufferPointer { (p: inout UnsafeMutableBufferPointer<Float>) in
                    (p.baseAddress! + idx[0] * d).update(from: h.ptr, count: h.count)
                }
            }
        }
        return out
    }

    /// Statistics of the features of `data`.
    public static func statistics(_ model: Classifier, data: Dataset) throws -> GaussianStatistics {
        guard data.count >= 2 else { throw SynthError("\(data.name): at least two images are needed for feature statistics") }
        let f = try of(model, data: data)
        return f.withUnsafeBufferPointer { GaussianStatistics(features: $0.baseAddress!, count: data.count, dim: model.featureDimension) }
    }
}
