import Foundation
import Measure

/// Markdown tables of the compression measurement (BENCHMARKS.md, report.md, the command's output).
public enum CompressionText {
    public static func markdown(_ t: CompressionTable) -> String {
        var lines = [realCurve(t.curves)]
        if !t.datasets.isEmpty {
            lines.append("")
            lines.append(placements(t.datasets, curves: t.curves))
        }
        return lines.joined(separator: "\n")
    }

    public static func realCurve(_ c: RealCurves) -> String {
        var rows = ["Real curve: \(c.settings.arch) on \(c.real)@N, scored on \(c.test); same steps = \(c.settings.lengthText), "
                    + "same epochs = \(c.epochs == 1 ? "1 epoch" : "\(c.epochs) epochs"); batch \(c.settings.batchSize), Adam \(c.settings.learningRate), "
                    + "\(c.settings.cosine ? "cosine" : "constant") schedule, seed \(c.settings.seed).",
                    "",
                    "| real samples | error, same steps | error, same epochs (steps) |",
                    "| ---: | ---: | ---: |"]
        for p in c.steps.points {
            let e = c.epochCurve.points.first { $0.size == p.size }
            rows.append("| \(p.size) | \(percent(p.error)) | \(e.map { "\(percent($0.error)) (\($0.steps))" } ?? "-") |")
        }
        return rows.joined(separator: "\n")
    }

    public static func placements(_ ds: [CompressionPlacement], curves: RealCurves) -> String {
        var rows = ["| dataset | source | labels | samples | CAS error | = real samples (same steps) | (same epochs) | model bytes | "
                    + "real bytes raw / PNG | compression raw / PNG |",
                    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for d in ds {
            let eq = d.equivalentSameSteps.map(\.description) ?? "-"
            let eqE = d.equivalentSameEpochs.map(\.description) ?? "-"
            let real = d.realBytesRaw.map { "\(bytes($0)) / \(bytes(d.realBytesPNG ?? 0))" } ?? "-"
            let ratio = d.compressionRaw.map { String(format: "%.2fx / %.2fx", $0, d.compressionPNG ?? 0) } ?? "n/a"
            rows.append("| \(d.dataset) | \(d.source) | \(labels(d.cas.settings)) | \(d.samples) | \(percent(d.cas.error)) | \(eq) | \(eqE) | "
                        + "\(d.modelBytes.map { bytes(Double($0)) } ?? "?") | \(real) | \(ratio) |")
        }
        let notes = ds.compactMap { d in d.note.map { "- \(d.dataset): \($0)" } }
        if !notes.isEmpty { rows += [""] + notes }
        rows.append("")
        rows.append(String(format: "Real bytes per image: %d raw, %.1f as PNG (mean over %@).", curves.rawBytesPerImage,
                           curves.pngBytesPerImage, curves.real))
        return rows.joined(separator: "\n")
    }

    /// What a CAS trained on: "hard", or "soft" with its temperature.
    public static func labels(_ s: CASSettings) -> String {
        s.soft ? (s.temperature == 1 ? "soft" : "soft, T = " + String(format: "%g", Double(s.temperature))) : "hard"
    }

    public static func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }

    /// Decimal units, as file sizes are usually quoted.
    public static func bytes(_ b: Double) -> String {
        if b >= 1e6 { return String(format: "%.2f MB", b / 1e6) }
        if b >= 1e3 { return String(format: "%.1f kB", b / 1e3) }
        return String(format: "%.0f B", b)
    }
}
