import Foundation
import Support

/// The IDX format of MNIST and Fashion-MNIST: big-endian header, then raw unsigned bytes.
/// Images are `0x00000803` (count, rows, cols); labels are `0x00000801` (count).
enum IDX {
    static let imagesMagic: UInt32 = 0x0000_0803
    static let labelsMagic: UInt32 = 0x0000_0801

    /// Parsed IDX payload with its header's dimensions.
    struct Array {
        let dims: [Int]
        let payload: ArraySlice<UInt8>
    }

    /// The largest payload synth reads from one IDX file (2 GiB; Fashion-MNIST's train images are
    /// 47 MB). A header claiming more is refused before anything is allocated for it.
    static let maxPayloadBytes = 1 << 31

    /// Reads an IDX file (gzip or raw) of unsigned bytes with the given magic number. A gzip file's
    /// header is inflated first; its dimensions then bound the rest: a claim above
    /// `maxPayloadBytes` or above what the compressed file can expand to is refused at once, and
    /// decompression stops at the size the header promises.
    static func read(_ path: String, magic: UInt32, what: String) throws -> Array {
        let file = try Files.read(path)
        let rank = Int(magic & 0xff)
        let header = 4 + 4 * rank
        guard Gzip.isGzip(file) else { return try parse(file, path: path, magic: magic, what: what) }
        let head = try Gzip.decompress(file, path: path, limit: header).bytes
        let dims = try parseHeader(head, path: path, magic: magic, what: what)
        let expected = payloadSize(dims)
        let shape = dims.map(String.init).joined(separator: "x")
        guard expected <= maxPayloadBytes else {
            throw SynthError.file(path, "header says \(shape) = \(expected) bytes, more than the \(maxPayloadBytes) bytes synth reads from an IDX file")
        }
        guard header + expected <= Gzip.mostOutput(ofCompressed: file.count) else {
            throw SynthError.file(path, "truncated IDX payload: header says \(shape) = \(expected) bytes, more than the \(file.count)-byte gzip file can hold")
        }
        let inflated = try Gzip.decompress(file, path: path, limit: header + expected)
        guard !inflated.exceedsLimit else {
            throw SynthError.file(path, "unexpected trailing data: header says \(shape) = \(expected) bytes, the gzip stream holds more")
        }
        return try parse(inflated.bytes, path: path, magic: magic, what: what)
    }

    /// The dimensions of an IDX header at the start of `bytes`.
    private static func parseHeader(_ bytes: [UInt8], path: String, magic: UInt32, what: String) throws -> [Int] {
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        guard bytes.count >= 4 else {
            throw SynthError.file(path, "too short for an IDX file (\(bytes.count) bytes)")
        }
        let found = u32(0)
        guard found == magic else {
            throw SynthError.file(path, "not an IDX \(what) file (magic 0x\(hex(found)), expected 0x\(hex(magic)))")
        }
        let rank = Int(magic & 0xff)
        let header = 4 + 4 * rank
        guard bytes.count >= header else {
            throw SynthError.file(path, "truncated IDX header (\(bytes.count) of \(header) bytes)")
        }
        return (0..<rank).map { Int(u32(4 + 4 * $0)) }
    }

    /// The payload bytes `dims` call for; a corrupt header can claim more than 2^63 bytes, which
    /// saturates instead of trapping.
    private static func payloadSize(_ dims: [Int]) -> Int {
        dims.reduce(1) { total, d in
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            return overflow ? Int.max : product
        }
    }

    /// A whole decompressed IDX file: header, then exactly the payload it promises.
    private static func parse(_ bytes: [UInt8], path: String, magic: UInt32, what: String) throws -> Array {
        let dims = try parseHeader(bytes, path: path, magic: magic, what: what)
        let header = 4 + 4 * dims.count
        let expected = payloadSize(dims)
        let actual = bytes.count - header
        guard actual == expected else {
            let shape = dims.map(String.init).joined(separator: "x")
            let fault = actual < expected ? "truncated IDX payload" : "unexpected trailing data"
            throw SynthError.file(path, "\(fault): header says \(shape) = \(expected) bytes, found \(actual)")
        }
        return Array(dims: dims, payload: bytes[header...])
    }

    /// An image file and a label file of the same length; class names default to "0", "1", ...
    static func load(images imagesPath: String, labels labelsPath: String, name: String,
                     classNames fixedNames: [String]? = nil) throws -> Dataset {
        let images = try read(imagesPath, magic: imagesMagic, what: "images")
        let labels = try read(labelsPath, magic: labelsMagic, what: "labels")
        let count = images.dims[0], height = images.dims[1], width = images.dims[2]
        guard labels.dims[0] == count else {
            throw SynthError.file(labelsPath, "holds \(labels.dims[0]) labels but \(imagesPath) holds \(count) images")
        }
        guard count > 0, height > 0, width > 0 else {
            throw SynthError.file(imagesPath, "holds no pixels (\(count)x\(height)x\(width))")
        }
        let values = labels.payload.map { Int($0) }
        let classNames = fixedNames ?? (0...(values.max() ?? 0)).map { String($0) }
        if let bad = values.firstIndex(where: { $0 >= classNames.count }) {
            throw SynthError.file(labelsPath, "label \(values[bad]) of sample \(bad) is outside 0..<\(classNames.count)")
        }
        return Dataset(name: name, pixels: Swift.Array(images.payload), count: count, channels: 1,
                       height: height, width: width, labels: values, classNames: classNames)
    }

    private static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// Fashion-MNIST from the Debian package `dataset-fashion-mnist`, or from $SYNTH_DATA_DIR
/// (either holding the four files or a `fashion-mnist` folder that does).
enum FashionMNIST {
    static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    static let systemDirectory = "/usr/share/datasets/fashion-mnist"

    static func directory(_ environment: [String: String]) -> String {
        guard let root = environment["SYNTH_DATA_DIR"], !root.isEmpty else {
            return systemDirectory
        }
        var isDir: ObjCBool = false
        let nested = (root as NSString).appendingPathComponent("fashion-mnist")
        if FileManager.default.fileExists(atPath: nested, isDirectory: &isDir), isDir.boolValue { return nested }
        return root
    }

    static func load(_ split: DataSpec.Split, name: String,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Dataset {
        let dir = directory(environment)
        let prefix = split == .train ? "train" : "t10k"
        // The .gz files as shipped, or their decompressed twins.
        func file(_ stem: String) -> String {
            let gz = (dir as NSString).appendingPathComponent(stem + ".gz")
            let raw = (dir as NSString).appendingPathComponent(stem)
            if !FileManager.default.fileExists(atPath: gz) && FileManager.default.fileExists(atPath: raw) { return raw }
            return gz
        }
        let images = file("\(prefix)-images-idx3-ubyte"), labels = file("\(prefix)-labels-idx1-ubyte")
        if !FileManager.default.fileExists(atPath: images) {
            throw SynthError.file(images, "no such file (install dataset-fashion-mnist or set SYNTH_DATA_DIR)")
        }
        return try IDX.load(images: images, labels: labels, name: name, classNames: classNames)
    }
}
