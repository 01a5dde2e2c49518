import Datasets
import Foundation
import Support

/// `synth preview`: a PNG grid with one row per class present (in class order), its first
/// `perRow` samples left to right, 2-pixel white gaps between cells; many classes wrap into
/// blocks side by side (`ClassRowLayout`).
public enum ShardPreview {
    public struct Grid {
        public let png: [UInt8]
        /// The class index of each row, in class order (block after block).
        public let rows: [Int]
        public let classNames: [String]
        /// Blocks of rows side by side (1 up to `ClassRowLayout.maxRowsPerBlock` classes).
        public let blocks: Int
    }

    public static func grid(_ data: Dataset, perRow: Int) throws -> Grid {
        guard perRow > 0 else { throw SynthError("--per-row must be at least 1") }
        guard data.count > 0 else { throw SynthError("\(data.name): no samples to preview") }
        var picked = [[Int]](repeating: [], count: data.classCount)
        for i in 0..<data.count where picked[data.labels[i]].count < perRow { picked[data.labels[i]].append(i) }
        let rows = picked.indices.filter { !picked[$0].isEmpty }
        let layout = ClassRowLayout(rows: rows.count, columnsPerRow: perRow)
        var grid = ImageGrid(rows: layout.gridRows, columns: layout.gridColumns, channels: data.channels,
                             cellHeight: data.height, cellWidth: data.width, gap: 2, margin: 2, background: 255)
        for (row, cls) in rows.enumerated() {
            for (column, i) in picked[cls].enumerated() {
                let cell = layout.cell(row: row, column: column)
                grid.place(data.image(i), row: cell.row, column: cell.column)
            }
        }
        return Grid(png: grid.png, rows: rows, classNames: data.classNames, blocks: layout.blocks)
    }
}
