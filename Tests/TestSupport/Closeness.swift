import Foundation
import Testing

/// The inputs the PyTorch fixtures were computed from: sin(0.37 i + k) * 2 + 0.5 (i mod 3).
public func fixtureSequence(_ n: Int, _ k: Double = 0) -> [Float] {
    (0..<n).map { i -> Float in
        let wave: Double = Foundation.sin(0.37 * Double(i) + k) * 2
        let step: Double = 0.5 * Double(i % 3)
        return Float(wave + step)
    }
}

/// Expects a and b to agree elementwise within `tol` of relative difference |a - b| / (1 + |b|)
/// (NaN never agrees); a failure names the worst element.
public func expectClose(_ a: [Float], _ b: [Float], tol: Float = 2e-6, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    var worst: Float = 0, at = 0
    for i in 0..<min(a.count, b.count) {
        let e = abs(a[i] - b[i]) / (1 + abs(b[i]))
        if e > worst || e.isNaN { worst = e; at = i }
    }
    #expect(worst <= tol, "element \(at): \(a.isEmpty ? 0 : a[at]) vs \(b.isEmpty ? 0 : b[at]), relative difference \(worst)",
            sourceLocation: sourceLocation)
}
