import Foundation

/// What `synth compress` reports: the real curves and every dataset placed on them.
public struct CompressionTable: Codable, Equatable, Sendable {
    public var curves: RealCurves
    public var datasets: [CompressionPlacement]
    public init(curves: RealCurves, datasets: [CompressionPlacement]) { self.curves = curves; self.datasets = datasets }
}
