import Datasets
import Engine
import Support
import Foundation

/// PNG contact sheets for eyeballing generators: one row per class, 1 px gaps; many classes
/// wrap into blocks side by side (`ClassRowLayout`).
public enum SampleGrid {
    /// `perClass` samples of every class of a source.
    public static func write(_ source: SampleSource, perClass: Int = 10, seed: UInt64 = 0, to path: String) throws {
        try write(rows: source.classNames.count, columns: perClass, imageShape: source.imageShape, to: path) { row in
            try source.generate(label: row, count: perClass, seed: RNG.derive(seed, UInt64(row)))
        }
    }

    /// A generator straight out of training (rows are classes; for an unconditional generator
    /// they are just more samples).
    public static func write(_ generator: ResGANGenerator, columns: Int = 10, seed: UInt64 = 0, to path: String) throws {
        let cfg = generator.config
        try write(rows: cfg.classes, columns: columns, imageShape: cfg.imageShape, to: path) { row in
            var rng = RNG(seed: RNG.derive(seed, UInt64(row)))
            let z = Tensor(uninitialized: [columns, cfg.zDim])
            rng.fillNormal(z.ptr, count: z.count)
            let x = Autodiff.withoutGrad { generator(z, labels: Array(repeating: row, count: columns)) }
            let out = Tensor(uninitialized: x.shape)
            toUnitRange(x.ptr, into: out.ptr, count: x.count)
            return out
        }
    }

    /// `images(row)` gives `columns` images in [0, 1] for each row.
    static func write(rows: Int, columns: Int, imageShape: [Int], to path: String, images: (Int) throws -> Tensor) throws {
        let layout = ClassRowLayout(rows: rows, columnsPerRow: columns)
        var grid = ImageGrid(rows: layout.gridRows, columns: layout.gridColumns, channels: imageShape[0], cellHeight: imageShape[1],
                             cellWidth: imageShape[2], gap: 1, background: 0)
        let size = imageShape.reduce(1, *)
        for row in 0..<rows {
            let x = try images(row)
            for column in 0..<columns {
                let image = UnsafeBufferPointer(start: x.ptr + column * size, count: size)
                let cell = layout.cell(row: row, column: column)
                grid.place(image.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }, row: cell.row, column: cell.column)
            }
        }
        try Files.writeAtomically(grid.png, to: path)
    }
}
