import Foundation
import ONNX
import Support
import Testing

/// Graphs whose shape arithmetic is hostile, from fuzz findings kept in Fuzz/corpus/onnx: import
/// refuses them with one line naming the node, where a checked build used to trap.
@Suite struct ONNXHostileGraphTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus/onnx").standardized.path

    /// The Fashion-MNIST CNN with its Reshape target mutated to [4, Int64.max]: the element count
    /// of that target overflows Int, which `reduce(1, *)` trapped on (fuzz campaign 2, 42,009 runs).
    @Test func aReshapeTargetWhoseCountOverflowsIsOneLine() throws {
        let path = Self.corpus + "/reshape-overflow.onnx"
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        do {
            _ = try ONNXModel(bytes: bytes, path: path)
            Issue.record("a Reshape to [4, \(Int64.max)] was imported")
        } catch let e as SynthError {
            #expect(e.message.hasPrefix(path + ": node '/Reshape' (Reshape): shape [4, \(Int64.max)] does not fit"), "\(e.message)")
            let lines = e.message.split(whereSeparator: \.isNewline).count
            #expect(lines == 1, "\(e.message)")
        }
    }
}
