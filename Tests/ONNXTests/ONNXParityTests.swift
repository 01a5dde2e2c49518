import Engine
import Foundation
import Models
import ONNX
import Support
import Testing
import TestSupport

/// Models written by PyTorch at test time (onnx_models.py, torch.onnx.export) run by the importer:
/// logits within 1e-4 of their largest magnitude, input gradients within 1e-3 of theirs.
@Suite(.enabled(if: ReferencePython.available, "needs SYNTH_PYTHON with torch"))
struct ONNXParityTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("onnx_models.py").path

    /// Exports `name` into `dir` and returns the model's path.
    static func export(_ name: String, into dir: ScratchDirectory, _ options: [String] = []) throws -> String {
        let code = "import runpy, sys; sys.argv = sys.argv[0:1] + sys.argv[1:]; runpy.run_path(\(pythonString(script)), run_name='__main__')"
        let out = try #require(ReferencePython.run(code, [name, dir.path] + options))
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func pythonString(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "\\'") + "'" }

    static func floats(_ path: String) throws -> [Float] {
        let bytes = try Files.read(path)
        return bytes.withUnsafeBytes { raw in (0..<bytes.count / 4).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }

    /// Largest |a - b| over the largest |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        let scale = b.map(abs).max() ?? 0
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        return worst / max(scale, 1e-30)
    }

    func checkParity(_ name: String, _ options: [String] = [], batchNorms: Int? = nil) throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = try Self.export(name, into: dir, options)
        let model = try ModelFile.loadClassifier(path)
        #expect(model.card.arch == "onnx")
        if let batchNorms { #expect(batchNormLayerCount(model) == batchNorms) }
        let xs = try Self.floats(dir.file("x.bin")), r = try Self.floats(dir.file("r.bin"))
        let expectedLogits = try Self.floats(dir.file("logits.bin")), expectedGrad = try Self.floats(dir.file("grad.bin"))
        let shape = model.card.inputShape
        let n = xs.count / shape.reduce(1, *)
        let x = Tensor(xs, shape: [n] + shape, requiresGrad: true)
        let logits = model(x)
        #expect(logits.shape == [n, model.card.classes])
        let logitError = Self.relativeError(logits.array, expectedLogits)
        #expect(logitError <= 1e-4, "\(name): logits differ by \(logitError) of their largest magnitude")
        logits.backward(seed: Tensor(r, shape: logits.shape))
        let grad = try #require(x.grad).buffer
        let gradError = Self.relativeError(Array(grad), expectedGrad)
        #expect(gradError <= 1e-3, "\(name): input gradients differ by \(gradError) of their largest magnitude")
    }

    func batchNormLayerCount(_ layer: Layer) -> Int {
        layer.children.reduce(0) { $0 + ($1.1 is BatchNorm ? 1 : batchNormLayerCount($1.1)) }
    }

    @Test func resNet18CIFARMatchesPyTorch() throws {
        // Exported in eval mode: torch folds every batch norm into its conv.
        try checkParity("resnet18", batchNorms: 0)
    }

    @Test func resNet18WithBatchNormNodesKeptMatchesPyTorch() throws {
        try checkParity("resnet18", ["--keep-bn"], batchNorms: 20)
    }

    @Test func mobileNetV2StyleMatchesPyTorch() throws {
        try checkParity("mobilenetv2")
        try checkParity("mobilenetv2", ["--keep-bn", "--opset", "17"], batchNorms: 17)
    }

    @Test func fashionCNNMatchesPyTorch() throws {
        try checkParity("fashioncnn")
        try checkParity("fashioncnn", ["--opset", "11"])
    }

    @Test func featuresAreTheInputOfTheLastLinearLayer() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let model = try ModelFile.loadClassifier(try Self.export("fashioncnn", into: dir))
        #expect(model.featureDimension == 48)
        let x = Tensor(try Self.floats(dir.file("x.bin")), shape: [3, 1, 28, 28])
        let h = model.features(x)
        #expect(h.shape == [3, 48])
        // Tanh features: every value inside (-1, 1), and the head maps them to the logits.
        #expect(h.array.allSatisfy { abs($0) < 1 })
        #expect(Self.relativeError(model.head(h).array, try Self.floats(dir.file("logits.bin"))) <= 1e-4)
    }
}
