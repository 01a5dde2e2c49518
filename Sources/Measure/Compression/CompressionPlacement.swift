import Foundation
import Shards
import Support

/// One model file that produced a dataset and what it weighs.
public struct ModelBytes: Codable, Equatable, Sendable {
    public var role: String
    public var path: String
    /// nil when neither the manifest nor the file at `path` (same SHA-256) says.
    public var bytes: Int?
}

/// A dataset placed on the real error-versus-size curves (seed 003 §IV-B): the real training-set
/// size that gives the same test error, and the bytes of the models that produced the dataset
/// against the bytes of that much real data.
public struct CompressionPlacement: Codable, Equatable, Sendable {
    public var dataset: String
    public var source: String
    public var samples: Int
    public var cas: CASResult
    /// On the curve trained for the same number of steps as the dataset (the fair comparison).
    public var equivalentSameSteps: ErrorCurve.Equivalent?
    /// On the curve trained for the same number of epochs.
    public var equivalentSameEpochs: ErrorCurve.Equivalent?
    public var models: [ModelBytes]
    /// Sum over `models`; nil when any size is unknown.
    public var modelBytes: Int?
    /// Equivalent same-steps size times the bytes of one real image, raw (8-bit pixels) and as
    /// PNG (mean over the real training set, synth's encoder).
    public var realBytesRaw: Double?
    public var realBytesPNG: Double?
    /// realBytes / modelBytes: how many times smaller the models are than the real data they
    /// stand in for (> 1: the models are the smaller). nil when it does not apply (see `note`).
    public var compressionRaw: Double?
    public var compressionPNG: Double?
    public var note: String?
    /// The curves it was placed on, so a report can draw them.
    public var curves: RealCurves

    enum CodingKeys: String, CodingKey {
        case dataset, source, samples, cas, equivalentSameSteps = "equivalent_same_steps"
        case equivalentSameEpochs = "equivalent_same_epochs", models, modelBytes = "model_bytes"
        case realBytesRaw = "real_bytes_raw", realBytesPNG = "real_bytes_png", compressionRaw = "compression_raw"
        case compressionPNG = "compression_png", note, curves
    }

    /// Places a dataset whose CAS was measured with `curves.settings` on the same test set.
    public static func place(manifest: Manifest?, dataset: String, samples: Int, cas: CASResult, curves: RealCurves) -> CompressionPlacement {
        let steps = curves.steps.equivalentSize(error: cas.error)
        let epochs = curves.epochCurve.equivalentSize(error: cas.error)
        let models = (manifest?.build.models ?? []).map { m in
            ModelBytes(role: m.role, path: m.path, bytes: m.bytes ?? sizeIfSame(path: m.path, sha256: m.sha256))
        }
        let known = models.compactMap(\.bytes)
        let modelBytes = manifest != nil && known.count == models.count ? known.reduce(0, +) : nil
        let source = manifest?.build.source ?? "unknown"
        var p = CompressionPlacement(dataset: dataset, source: source, samples: samples, cas: cas,
                                     equivalentSameSteps: steps, equivalentSameEpochs: epochs, models: models,
                                     modelBytes: modelBytes, realBytesRaw: nil, realBytesPNG: nil, compressionRaw: nil,
                                     compressionPNG: nil, note: nil, curves: curves)
        if let steps {
            p.realBytesRaw = steps.bound * Double(curves.rawBytesPerImage)
            p.realBytesPNG = steps.bound * curves.pngBytesPerImage
        }
        if manifest == nil {
            p.note = "no manifest.json: the models that produced it are unknown"
        } else if source == "replay" || manifest?.build.command == "pack" {
            p.note = "real images (\(source)), not generated: no compression to measure"
        } else if modelBytes == nil {
            p.note = "a model file's size is unknown (not in the manifest, file not found or changed)"
        } else if modelBytes == 0 {
            p.note = "the manifest records no model"
        } else if let raw = p.realBytesRaw, let png = p.realBytesPNG, let mb = modelBytes {
            p.compressionRaw = raw / Double(mb)
            p.compressionPNG = png / Double(mb)
            switch steps {
            case .below: p.note = "CAS below the smallest real subset: the real sizes are upper bounds"
            case .above: p.note = "CAS above the largest real subset: the real sizes are lower bounds"
            default: break
            }
        }
        return p
    }

    /// The size of the file at `path` (as typed at build time, relative to the working
    /// directory) if it still has the recorded SHA-256.
    static func sizeIfSame(path: String, sha256: String) -> Int? {
        guard Files.exists(path), let d = try? FileDigest.read(path).digest, d.sha256 == sha256 else { return nil }
        return d.size
    }
}
