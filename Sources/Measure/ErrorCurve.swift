import Foundation

/// Test error of classifiers trained on real subsets of growing size (seed 003 §IV-B, Fig. 1-2):
/// the yardstick a synthetic dataset is placed on.
public struct ErrorCurve: Codable, Equatable, Sendable {
    public struct Point: Codable, Equatable, Sendable {
        public var size: Int
        public var steps: Int
        public var accuracy: Double
        public var error: Double { 1 - accuracy }
        public var perClass: [ClassAccuracy]

        enum CodingKeys: String, CodingKey { case size, steps, accuracy, error, perClass = "per_class" }

        public init(size: Int, steps: Int, accuracy: Double, perClass: [ClassAccuracy] = []) {
            self.size = size; self.steps = steps; self.accuracy = accuracy; self.perClass = perClass
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            size = try c.decode(Int.self, forKey: .size); steps = try c.decode(Int.self, forKey: .steps)
            accuracy = try c.decode(Double.self, forKey: .accuracy)
            perClass = try c.decodeIfPresent([ClassAccuracy].self, forKey: .perClass) ?? []
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(size, forKey: .size); try c.encode(steps, forKey: .steps)
            try c.encode(accuracy, forKey: .accuracy); try c.encode(error, forKey: .error)
            try c.encode(perClass, forKey: .perClass)
        }
    }

    /// "steps" (every subset trained for the same number of optimisation steps) or "epochs"
    /// (every subset for the same number of passes, so small subsets get few steps).
    public var protocolName: String
    public var points: [Point]

    enum CodingKeys: String, CodingKey { case protocolName = "protocol", points }

    public init(protocolName: String, points: [Point]) {
        self.protocolName = protocolName
        self.points = points.sorted { $0.size < $1.size }
    }

    /// Where a synthetic dataset's error falls on the curve, in real samples.
    public enum Equivalent: Equatable, Sendable, Codable, CustomStringConvertible {
        /// Worse than the smallest real subset measured.
        case below(Int)
        case size(Double)
        /// Better than the largest real subset measured.
        case above(Int)

        public var description: String {
            switch self {
            case .below(let n): return "below \(n)"
            case .size(let n): return String(Int(n.rounded()))
            case .above(let n): return "above \(n)"
            }
        }

        /// The size for byte accounting: the bound itself when outside the curve.
        public var bound: Double {
            switch self {
            case .below(let n), .above(let n): return Double(n)
            case .size(let n): return n
            }
        }

        enum CodingKeys: String, CodingKey { case relation, size }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let size = try c.decode(Double.self, forKey: .size)
            switch try c.decode(String.self, forKey: .relation) {
            case "below": self = .below(Int(size))
            case "above": self = .above(Int(size))
            default: self = .size(size)
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .below(let n): try c.encode("below", forKey: .relation); try c.encode(Double(n), forKey: .size)
            case .above(let n): try c.encode("above", forKey: .relation); try c.encode(Double(n), forKey: .size)
            case .size(let n): try c.encode("equal", forKey: .relation); try c.encode((n * 10).rounded() / 10, forKey: .size)
            }
        }
    }

    /// The real training-set size whose error equals `error`: piecewise-linear interpolation of
    /// error against log(size) between measured points.
    ///
    /// Measured errors are noisy and need not fall with size at every step; the curve is first
    /// made non-increasing by isotonic regression (pool adjacent violators, equal weights), so
    /// each error maps to one size. Where the fitted curve is flat at exactly `error`, the
    /// smallest such size is returned. Outside the measured range the answer is a bound.
    public func equivalentSize(error e: Double) -> Equivalent? {
        guard let first = points.first, let last = points.last else { return nil }
        let fitted = Self.nonIncreasingFit(points.map(\.error))
        if e > fitted[0] { return .below(first.size) }
        if e < fitted[fitted.count - 1] { return .above(last.size) }
        if e == fitted[0] { return .size(Double(first.size)) }
        for i in 0..<(points.count - 1) where fitted[i] > fitted[i + 1] && e >= fitted[i + 1] && e <= fitted[i] {
            let t = (fitted[i] - e) / (fitted[i] - fitted[i + 1])
            if t >= 1 { return .size(Double(points[i + 1].size)) }
            let a = log(Double(points[i].size)), b = log(Double(points[i + 1].size))
            return .size(exp(a + t * (b - a)))
        }
        // e equals a flat stretch of the fit: the first size that reaches it.
        let i = fitted.firstIndex { $0 <= e } ?? (points.count - 1)
        return .size(Double(points[i].size))
    }

    /// Pool-adjacent-violators: the least-squares non-increasing sequence closest to `values`.
    public static func nonIncreasingFit(_ values: [Double]) -> [Double] {
        var blocks: [(sum: Double, count: Int)] = []
        for v in values {
            blocks.append((v, 1))
            // A later block with a higher mean than the one before it violates the order: merge.
            while blocks.count > 1 {
                let b = blocks[blocks.count - 1], a = blocks[blocks.count - 2]
                guard b.sum / Double(b.count) > a.sum / Double(a.count) else { break }
                blocks.removeLast(2)
                blocks.append((a.sum + b.sum, a.count + b.count))
            }
        }
        return blocks.flatMap { Array(repeating: $0.sum / Double($0.count), count: $0.count) }
    }
}
