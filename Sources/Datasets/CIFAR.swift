import Foundation
import Support

/// The binary versions of CIFAR-10 and CIFAR-100: fixed-size records of label byte(s) followed by
/// 32x32 planar RGB (1024 red, 1024 green, 1024 blue bytes), which is already CHW.
enum CIFAR {
    static let side = 32, imageBytes = 3 * 32 * 32
    static let cifar10Names = ["airplane", "automobile", "bird", "cat", "deer",
                               "dog", "frog", "horse", "ship", "truck"]

    /// CIFAR-10: data_batch_1..5.bin or test_batch.bin, names from batches.meta.txt. DIR may also be
    /// the folder that holds `cifar-10-batches-bin` as unpacked from the archive.
    static func load10(dir given: String, split: DataSpec.Split, name: String) throws -> Dataset {
        let dir = resolve(given, inner: "cifar-10-batches-bin", marker: "test_batch.bin")
        let files = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        let names = try classNames(in: dir, file: "batches.meta.txt", count: 10) ?? cifar10Names
        return try load(files.map { join(dir, $0) }, labelBytes: 1, labelOffset: 0, kind: "CIFAR-10",
                        classNames: names, name: name)
    }

    /// CIFAR-100: train.bin or test.bin with (coarse, fine) label bytes; the fine label is used.
    /// Names from fine_label_names.txt when present, else "class-i".
    static func load100(dir given: String, split: DataSpec.Split, name: String) throws -> Dataset {
        let dir = resolve(given, inner: "cifar-100-binary", marker: "train.bin")
        let names = try classNames(in: dir, file: "fine_label_names.txt", count: 100)
            ?? (0..<100).map { "class-\($0)" }
        return try load([join(dir, split == .train ? "train.bin" : "test.bin")], labelBytes: 2,
                        labelOffset: 1, kind: "CIFAR-100", classNames: names, name: name)
    }

    private static func load(_ paths: [String], labelBytes: Int, labelOffset: Int, kind: String,
                             classNames: [String], name: String) throws -> Dataset {
        let record = labelBytes + imageBytes
        var pixels: [UInt8] = []
        var labels: [Int] = []
        for path in paths {
            let bytes = try Files.read(path)
            guard !bytes.isEmpty, bytes.count % record == 0 else {
                throw SynthError.file(path, "size \(bytes.count) bytes is not a positive multiple of the "
                    + "\(record)-byte \(kind) record")
            }
            let n = bytes.count / record
            pixels.reserveCapacity(pixels.count + n * imageBytes)
            labels.reserveCapacity(labels.count + n)
            for r in 0..<n {
                let label = Int(bytes[r * record + labelOffset])
                guard label < classNames.count else {
                    throw SynthError.file(path, "record \(r) has label \(label), outside 0..<\(classNames.count)")
                }
                labels.append(label)
                pixels.append(contentsOf: bytes[(r * record + labelBytes) ..< ((r + 1) * record)])
            }
        }
        return Dataset(name: name, pixels: pixels, count: labels.count, channels: 3, height: side,
                       width: side, labels: labels, classNames: classNames)
    }

    /// Class names, one per non-empty line; nil when the file does not exist.
    private static func classNames(in dir: String, file: String, count: Int) throws -> [String]? {
        let path = join(dir, file)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let bytes = try Files.read(path, atMost: 1 << 20)
        let names = String(decoding: bytes, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard names.count == count else {
            throw SynthError.file(path, "expected \(count) class names, one per line, found \(names.count)")
        }
        return names
    }

    private static func resolve(_ dir: String, inner: String, marker: String) -> String {
        let nested = join(dir, inner)
        if !FileManager.default.fileExists(atPath: join(dir, marker)),
           FileManager.default.fileExists(atPath: join(nested, marker)) { return nested }
        return dir
    }

    static func join(_ dir: String, _ file: String) -> String { (dir as NSString).appendingPathComponent(file) }
}
