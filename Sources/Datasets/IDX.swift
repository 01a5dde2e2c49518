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

    /// Reads an IDX file (gzip or raw) of unsigned bytes with the given magic number.
    static func read(_ path: String, magic: UInt32, what: String) throws -> Array {
        let bytes = try Gzip.read(path)
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
        let dims = (0..<rank).map { Int(u32(4 + 4 * $0)) }
        // A corrupt header can claim more than 2^63 bytes; saturate instead of trapping.
        let expected = dims.reduce(1) { total, d in
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            return overflow ? Int.max : product
        }
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
