import Foundation
import Support

/// Everything needed to rebuild a model from its checkpoint alone: the architecture and its
/// hyper-parameters, the classes, and the input the model expects (shape and normalisation).
/// Stored as strings in the safetensors `__metadata__` (see `metadata` for the keys).
public struct ModelCard: Equatable, Sendable {
    /// What the file holds: "classifier", "reconstructor", "generator", "input-generator".
    public var kind: String
    /// Registered architecture name, e.g. "ref-cnn".
    public var arch: String
    /// Architecture hyper-parameters beyond the input and class count (e.g. {"width": 32}).
    public var hyperparameters: [String: Int]
    public var classNames: [String]
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Per-channel normalisation applied to pixels scaled to [0, 1]: (x - mean) / std.
    public var mean: [Float]
    public var std: [Float]
    /// Free-form provenance (training data spec, epochs, seed, tool version, accuracy...).
    public var info: [String: String]

    public init(kind: String, arch: String, hyperparameters: [String: Int] = [:], classNames: [String],
                channels: Int, height: Int, width: Int, mean: [Float], std: [Float], info: [String: String] = [:]) {
        self.kind = kind; self.arch = arch; self.hyperparameters = hyperparameters
        self.classNames = classNames; self.channels = channels; self.height = height; self.width = width
        self.mean = mean; self.std = std; self.info = info
    }

    public var classes: Int { classNames.count }
    public var inputShape: [Int] { [channels, height, width] }

    /// The safetensors `__metadata__` map: every value a string, JSON where structured.
    public var metadata: [String: String] {
        var m = info
        m["format"] = "synth-checkpoint-1"
        m["kind"] = kind
        m["arch"] = arch
        m["hyperparameters"] = json(hyperparameters)
        m["class_names"] = json(classNames)
        m["input_shape"] = json(inputShape)
        m["normalization"] = json(["mean": mean, "std": std])
        return m
    }

    static let reservedKeys: Set<String> = ["format", "kind", "arch", "hyperparameters", "class_names", "input_shape", "normalization"]

    /// Reads a card back; `file` names the checkpoint in error messages.
    public init(metadata m: [String: String], file: String) throws {
        func field<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let s = m[key] else { throw SynthError.file(file, "metadata has no '\(key)': not a synth checkpoint") }
            guard let v = try? JSONDecoder().decode(T.self, from: Data(s.utf8)) else {
                throw SynthError.file(file, "metadata '\(key)' is not valid: \(s.prefix(80))")
            }
            return v
        }
        guard let arch = m["arch"] else { throw SynthError.file(file, "metadata has no 'arch': not a synth checkpoint") }
        let shape = try field("input_shape", [Int].self)
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw SynthError.file(file, "metadata 'input_shape' must be [channels, height, width], got \(shape)")
        }
        let norm = try field("normalization", [String: [Float]].self)
        guard let mean = norm["mean"], let std = norm["std"], mean.count == shape[0], std.count == shape[0],
              std.allSatisfy({ $0 > 0 }) else {
            throw SynthError.file(file, "metadata 'normalization' needs a mean and a positive std per channel")
        }
        self.init(kind: m["kind"] ?? "classifier", arch: arch,
                  hyperparameters: try field("hyperparameters", [String: Int].self),
                  classNames: try field("class_names", [String].self),
                  channels: shape[0], height: shape[1], width: shape[2], mean: mean, std: std,
                  info: m.filter { !ModelCard.reservedKeys.contains($0.key) })
    }
}

/// Compact JSON with sorted keys, so metadata (and so checkpoint bytes) are deterministic.
func json<T: Encodable>(_ value: T) -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try! e.encode(value), as: UTF8.self)
}
