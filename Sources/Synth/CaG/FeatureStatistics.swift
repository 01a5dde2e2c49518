import Engine
import Foundation
import Support

/// Per-class statistics of a classifier's activations on its training data, for CaG's priors:
/// - mu_c, sigma_c of the penultimate features h (eq. 6-7, the distribution loss);
/// - per-class channel mean and variance of the input of every batch-norm layer, so the
///   batch-norm statistics prior can match a one-class batch to that class's statistics rather
///   than to the running statistics of all classes mixed (which a one-class batch should not have).
///
/// Stored beside the classifier as `C.stats.safetensors` (the classifier file itself stays a plain
/// state dict that PyTorch loads strictly). The metadata names the classifier's sha256, so stale
/// statistics are refused.
public struct FeatureStatistics {
    public struct LayerStatistics {
        public let name: String
        public let channels: Int
        public init(name: String, channels: Int, classMean: [Float], classVar: [Float]) {
            self.name = name; self.channels = channels; self.classMean = classMean; self.classVar = classVar
        }
        /// [K, C] row-major: per-class channel mean and (population) variance.
        public var classMean: [Float]
        public var classVar: [Float]
    }

    public let classes: Int
    public let dimension: Int
    /// [K, D] row-major.
    public var classMean: [Float]
    /// [K, D] row-major, unbiased standard deviation of each feature within the class.
    public var classStd: [Float]
    public var classCounts: [Int]
    /// Batch-norm layers in the order the classifier runs them, by state-dict prefix.
    public var layers: [LayerStatistics]
    public var classifierSHA256: String
    public var data: String

    public static let format = "synth-feature-statistics-1"

    /// Where the statistics of classifier file `path` live: `C.safetensors` -> `C.stats.safetensors`,
    /// `M.onnx` -> `M.stats.safetensors`.
    public static func sidecarPath(for classifierPath: String) -> String {
        let suffix = ".safetensors"
        var base = classifierPath
        if let ext = [suffix, ".onnx"].first(where: { base.hasSuffix($0) }) { base = String(base.dropLast(ext.count)) }
        return base + ".stats" + suffix
    }

    public init(classes: Int, dimension: Int, classMean: [Float], classStd: [Float], classCounts: [Int],
                layers: [LayerStatistics], classifierSHA256: String, data: String) {
        self.classes = classes; self.dimension = dimension; self.classMean = classMean; self.classStd = classStd
        self.classCounts = classCounts; self.layers = layers; self.classifierSHA256 = classifierSHA256; self.data = data
    }

    public func save(to path: String) throws {
        var entries = [
            SafetensorsEntry(name: "class_mean", shape: [classes, dimension], values: classMean),
            SafetensorsEntry(name: "class_std", shape: [classes, dimension], values: classStd),
            SafetensorsEntry(name: "class_count", shape: [classes], values: classCounts.map(Float.init)),
        ]
        for l in layers {
            entries.append(SafetensorsEntry(name: "bn.\(l.name).class_mean", shape: [classes, l.channels], values: l.classMean))
            entries.append(SafetensorsEntry(name: "bn.\(l.name).class_var", shape: [classes, l.channels], values: l.classVar))
        }
        let metadata = ["format": FeatureStatistics.format, "kind": "feature-statistics",
                        "classifier_sha256": classifierSHA256, "data": data,
                        "bn_layers": layers.map(\.name).joined(separator: ",")]
        try Safetensors.write(entries, metadata: metadata, to: path)
    }

    /// Reads statistics and, when `classifierSHA256` is given, refuses ones made for another file.
    public static func load(_ path: String, classifierSHA256 expected: String? = nil) throws -> FeatureStatistics {
        let file = try Safetensors.read(path)
        guard file.metadata["format"] == format else {
            throw SynthError.file(path, "not a feature-statistics file (make one with synth stats --model C --data SPEC)")
        }
        let sha = file.metadata["classifier_sha256"] ?? ""
        if let expected, sha != expected {
            throw SynthError.file(path, "statistics of another classifier (sha256 \(sha.prefix(12))..., the classifier is \(expected.prefix(12))...): rerun synth stats")
        }
        func tensor(_ name: String, rank: Int) throws -> SafetensorsEntry {
            guard let e = file.entries[name], e.shape.count == rank, e.dtype == .f32 else {
                throw SynthError.file(path, "missing or malformed tensor '\(name)'")
            }
            return e
        }
        let mean = try tensor("class_mean", rank: 2), std = try tensor("class_std", rank: 2), count = try tensor("class_count", rank: 1)
        let k = mean.shape[0], d = mean.shape[1]
        guard std.shape == [k, d], count.shape == [k] else { throw SynthError.file(path, "class_mean, class_std and class_count disagree in shape") }
        let names = (file.metadata["bn_layers"] ?? "").split(separator: ",").map(String.init)
        var layers: [LayerStatistics] = []
        for name in names {
            let m = try tensor("bn.\(name).class_mean", rank: 2), v = try tensor("bn.\(name).class_var", rank: 2)
            guard m.shape[0] == k, m.shape == v.shape else { throw SynthError.file(path, "batch-norm statistics of '\(name)' have the wrong shape") }
            layers.append(LayerStatistics(name: name, channels: m.shape[1], classMean: Array(m.values.buffer), classVar: Array(v.values.buffer)))
        }
        return FeatureStatistics(classes: k, dimension: d, classMean: Array(mean.values.buffer), classStd: Array(std.values.buffer),
                                 classCounts: Array(count.values.buffer).map { Int($0) }, layers: layers,
                                 classifierSHA256: sha, data: file.metadata["data"] ?? "")
    }
}

/// Every batch-norm layer below `layer`, with its state-dict prefix ("b1", "layer2.0.bn1", ...),
/// in registration order (the order a sequential network runs them).
public func batchNormLayers(of layer: Layer, prefix: String = "") -> [(name: String, layer: BatchNorm)] {
    var out: [(String, BatchNorm)] = []
    for (name, child) in layer.children {
        let full = prefix.isEmpty ? name : prefix + "." + name
        if let bn = child as? BatchNorm { out.append((full, bn)) } else { out += batchNormLayers(of: child, prefix: full) }
    }
    return out
}
