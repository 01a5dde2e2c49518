import Datasets
import Engine
import Support
import Foundation

/// PNG contact sheets for eyeballing generators: one row per class, 1 px gaps.
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
        let c = imageShape[0], h = imageShape[1], w = imageShape[2]
        let gh = rows * (h + 1) - 1, gw = columns * (w + 1) - 1
        var pixels = [UInt8](repeating: 0, count: c * gh * gw)
        for row in 0..<rows {
            let x = try images(row)
            for i in 0..<columns {
                for ch in 0..<c {
                    for y in 0..<h {
                        for xx in 0..<w {
                            let v = x.ptr[((i * c + ch) * h + y) * w + xx]
                            let gy = row * (h + 1) + y, gx = i * (w + 1) + xx
                            pixels[(ch * gh + gy) * gw + gx] = UInt8((min(max(v, 0), 1) * 255).rounded())
                        }
                    }
                }
            }
        }
        let bytes = PNG.encode(pixels: pixels, width: gw, height: gh, channels: c)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw SynthError.file(path, "cannot write the preview image")
        }
    }
}
