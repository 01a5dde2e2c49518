import Foundation
import Support

/// `folder:DIR`: every non-hidden sub-folder is a class (sorted by name, byte-wise, gives the class
/// order) holding that class's PNG files (sorted by name, byte-wise, gives the sample order).
/// Hidden entries (".name") and plain files directly in DIR are ignored; anything else in a class
/// folder must be a PNG, and all images must share one size and channel count. Those numbers are
/// this dataset's own: combined with another dataset or a model, its classes are matched by name
/// (`Dataset.inLabelSpace`).
enum ImageFolder {
    static func load(dir: String, name: String) throws -> Dataset {
        let classes = try entries(of: dir).filter { Files.isDirectory(Files.join(dir, $0)) }
        guard !classes.isEmpty else {
            throw SynthError.file(dir, "no class sub-folders (expected DIR/CLASS/*.png)")
        }
        var files: [String] = []
        var labels: [Int] = []
        for (label, className) in classes.enumerated() {
            let classDir = Files.join(dir, className)
            let names = try entries(of: classDir)
            guard !names.isEmpty else { throw SynthError.file(classDir, "empty class folder, expected PNG files") }
            for file in names {
                let path = Files.join(classDir, file)
                if Files.isDirectory(path) {
                    throw SynthError.file(path, "unexpected folder inside a class folder (expected PNG files)")
                }
                files.append(path)
                labels.append(label)
            }
        }

        // Decoded in parallel, kept in file order.
        var decoded: [Result<PNG.Image, Error>?] = Parallel.map(files.count) { i in
            Result { try PNG.decode(try Files.read(files[i]), path: files[i]) }
        }

        // The first image in order fixes the shape; errors are reported in file order.
        let first = try decoded[0]!.get()
        let (c, h, w) = (first.channels, first.height, first.width)
        let size = c * h * w
        var pixels = [UInt8](repeating: 0, count: files.count * size)
        for i in files.indices {
            let image = try decoded[i]!.get()
            guard image.channels == c, image.height == h, image.width == w else {
                throw SynthError.file(files[i], "is \(describe(image)) but \(files[0]) is "
                    + "\(describe(first)); all images of a folder dataset must share size and channels")
            }
            pixels.replaceSubrange(i * size ..< (i + 1) * size, with: image.pixels)
            decoded[i] = nil
        }
        return Dataset(name: name, pixels: pixels, count: files.count, channels: c, height: h, width: w,
                       labels: labels, classNames: classes)
    }

    private static func describe(_ image: PNG.Image) -> String {
        "\(image.width)x\(image.height) \(image.channels == 1 ? "gray" : "RGB")"
    }

    /// Non-hidden entry names, sorted byte-wise so the order does not depend on the locale.
    private static func entries(of dir: String) throws -> [String] {
        guard Files.exists(dir) else { throw SynthError.file(dir, "no such directory") }
        guard Files.isDirectory(dir) else { throw SynthError.file(dir, "is not a directory") }
        return try Files.list(dir).filter { !$0.hasPrefix(".") }
    }
}
