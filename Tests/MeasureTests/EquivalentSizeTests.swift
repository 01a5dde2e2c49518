import Foundation
import Measure
import Testing

/// Placing an error on the real error-versus-size curve: log-linear interpolation, the isotonic
/// fit of noisy curves, and the bounds outside the measured range.
@Suite struct EquivalentSizeTests {
    static func curve(_ pairs: [(Int, Double)]) -> ErrorCurve {
        ErrorCurve(protocolName: "steps", points: pairs.map { ErrorCurve.Point(size: $0.0, steps: 100, accuracy: 1 - $0.1) })
    }

    let fmnist = curve([(1000, 0.16), (2000, 0.14), (5000, 0.12), (10000, 0.11), (20000, 0.095), (60000, 0.08)])

    func size(_ e: ErrorCurve.Equivalent?) -> Double? {
        if case .size(let n) = e { return n }
        return nil
    }

    @Test func measuredPointsMapToTheirSizes() {
        for p in fmnist.points {
            let n = size(fmnist.equivalentSize(error: p.error))
            #expect(n != nil && abs(n! - Double(p.size)) < 1e-6 * Double(p.size), "\(p.size): \(String(describing: n))")
        }
    }

    @Test func interpolatesLinearlyInLogSize() {
        // Half-way in error between 1000 and 2000 is the geometric mean of the sizes.
        let n = size(fmnist.equivalentSize(error: 0.15))!
        #expect(abs(n - (1000.0 * 2000).squareRoot()) < 1e-6)
        // A quarter of the way from 5000 (0.12) to 10000 (0.11).
        let m = size(fmnist.equivalentSize(error: 0.1175))!
        #expect(abs(m - exp(log(5000.0) + 0.25 * log(2.0))) < 1e-6)
    }

    @Test func outsideTheCurveIsABound() {
        #expect(fmnist.equivalentSize(error: 0.30) == .below(1000))
        #expect(fmnist.equivalentSize(error: 0.05) == .above(60000))
        #expect(fmnist.equivalentSize(error: 0.30)?.description == "below 1000")
        #expect(fmnist.equivalentSize(error: 0.05)?.description == "above 60000")
        #expect(fmnist.equivalentSize(error: 0.05)?.bound == 60000)
        #expect(Self.curve([]).equivalentSize(error: 0.1) == nil)
    }

    @Test func noisyCurvesAreMadeMonotoneFirst() {
        // 5000 measured worse than 2000: pooled into one flat stretch at their mean 0.13.
        #expect(ErrorCurve.nonIncreasingFit([0.16, 0.12, 0.14, 0.10]) == [0.16, 0.13, 0.13, 0.10])
        #expect(ErrorCurve.nonIncreasingFit([0.1, 0.2, 0.3]).allSatisfy { abs($0 - 0.2) < 1e-12 })
        let noisy = Self.curve([(1000, 0.16), (2000, 0.12), (5000, 0.14), (10000, 0.10)])
        // On the flat stretch: the smallest size reaching it.
        #expect(size(noisy.equivalentSize(error: 0.13)) == 2000)
        // Every error maps to one size, and sizes grow as errors fall.
        var last = 0.0
        for e in stride(from: 0.16, through: 0.10, by: -0.0025) {
            let n = size(noisy.equivalentSize(error: e))!
            #expect(n >= last)
            last = n
        }
    }

    @Test func equivalentRoundTripsThroughJSON() throws {
        for e in [ErrorCurve.Equivalent.below(1000), .above(60000), .size(4321.25)] {
            let back = try JSONDecoder().decode(ErrorCurve.Equivalent.self, from: JSONEncoder().encode(e))
            #expect(back.description == e.description)
        }
    }

    @Test func matchingEpochsGiveTheLargestSubsetTheSameSteps() {
        #expect(CompressionExperiment.matchingEpochs(settings: CASSettings(), largest: 60000) == 10)
        #expect(CompressionExperiment.matchingEpochs(settings: CASSettings(length: .steps(100)), largest: 60000) == 1)
    }
}
