import Engine
import Foundation
import ONNX
import Support

/// A classifier from elsewhere: an .onnx graph (DESIGN.md, "Models from elsewhere (ONNX)") behind
/// the same interface as the built-in architectures. Its card says arch "onnx", the graph's input
/// shape, the class names and normalisation of the sidecar `M.onnx.json` (else "0".."K-1" and the
/// identity: exporters fold `(x - mean) / std` into the graph). Its BatchNormalization nodes are
/// Engine BatchNorm layers among its children, so the batch-norm prior and `synth stats` see them.
public final class ONNXClassifier: Classifier {
    public let model: ONNXModel

    public init(path: String) throws {
        let sidecar = try ONNXSidecar.load(for: path)
        let model = try ONNXModel(path: path, features: sidecar?.features)
        let c = model.inputShape[0]
        let names = sidecar?.classNames ?? (0..<model.classes).map(String.init)
        guard names.count == model.classes else {
            throw SynthError.file(ONNXSidecar.path(for: path), "names \(names.count) classes but \(path) outputs \(model.classes) logits")
        }
        let mean = sidecar?.mean ?? Array(repeating: 0, count: c), std = sidecar?.std ?? Array(repeating: 1, count: c)
        guard mean.count == c, std.count == c, std.allSatisfy({ $0 > 0 }) else {
            throw SynthError.file(ONNXSidecar.path(for: path), "needs a mean and a positive std for each of the model's \(c) channels")
        }
        var info = ["onnx_opset": String(model.opset), "onnx_batch_norms": String(model.batchNorms.count)]
        if !model.producer.isEmpty { info["onnx_producer"] = model.producer }
        self.model = model
        super.init(card: ModelCard(kind: "classifier", arch: "onnx", classNames: names, channels: c,
                                   height: model.inputShape[1], width: model.inputShape[2], mean: mean, std: std, info: info))
        eval()
        freeze()
    }

    public override var children: [(String, Layer)] { model.batchNorms.map { ($0.name, $0.layer as Layer) } }

    /// The graph was run at import on a batch of this input shape, so a failure here is a bug,
    /// not bad input.
    public override func features(_ x: Tensor) -> Tensor {
        do { return try model.features(x) } catch { preconditionFailure("\(error)") }
    }

    public override func head(_ h: Tensor) -> Tensor {
        do { return try model.head(h) } catch { preconditionFailure("\(error)") }
    }

    public override var featureDimension: Int { model.featureDimension }
}

/// `M.onnx.json` beside `M.onnx`: `{"class_names": [...], "mean": [...], "std": [...], "features": "NAME"}`,
/// every key optional.
public struct ONNXSidecar: Decodable, Equatable {
    public var classNames: [String]?
    public var mean: [Float]?
    public var std: [Float]?
    public var features: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case classNames = "class_names", mean, std, features
    }

    public static func path(for model: String) -> String { model + ".json" }

    /// The sidecar of `model`, nil when there is none; a malformed one is a one-line error naming it.
    public static func load(for model: String) throws -> ONNXSidecar? {
        let file = path(for: model)
        guard Files.exists(file) else { return nil }
        let data = Data(try Files.read(file))
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SynthError.file(file, "is not a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw SynthError.file(file, "has an unknown key '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        do {
            return try JSONDecoder().decode(ONNXSidecar.self, from: data)
        } catch {
            throw SynthError.file(file, "does not fit {\"class_names\": [...], \"mean\": [...], \"std\": [...], \"features\": \"NAME\"}")
        }
    }
}
