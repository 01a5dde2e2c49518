import Datasets
import Foundation
import Support

/// `synth preview`: a PNG grid with one row per class present (in class order), its first
/// `perRow` samples left to right, 2-pixel white gaps between cells.
public enum ShardPreview {
    public struct Grid {
        public let png: [UInt8]
        /// The class index of each row.
        public let rows: [Int]
        public let classNames: [String]
    }

    public static func grid(_ data: Dataset, perRow: Int) throws -> Grid {
        guard perRow > 0 else { throw SynthError("--per-row must be at least 1") }
        guard data.count > 0 else { throw SynthError("\(data.name): no samples to preview") }
        var picked = [[Int]](repeating: [], count: data.classCount)
        for i in 0..<data.count where picked[data.labels[i]].count < perRow { picked[data.labels[i]].append(i) }
        let rows = picked.indices.filter { !picked[$0].isEmpty }
        let gap = 2, c = data.channels, h = data.height, w = data.width
        let width = perRow * w + (perRow + 1) * gap, height = rows.count * h + (rows.count + 1) * gap
        var pixels = [UInt8](repeating: 255, count: c * width * height)
        for (r, cls) in rows.enumerated() {
            for (col, i) in picked[cls].enumerated() {
                let image = data.image(i), top = gap + r * (h + gap), left = gap + col * (w + gap)
                for ch in 0..<c {
                    for y in 0..<h {
                        let src = image.startIndex + (ch * h + y) * w
                        let dst = (ch * height + top + y) * width + left
                        pixels.replaceSubrange(dst..<(dst + w), with: data.pixels[src..<(src + w)])
                    }
                }
            }
        }
        return Grid(png: PNG.encode(pixels: pixels, width: width, height: height, channels: c), rows: rows,
                    classNames: data.classNames)
    }
}
