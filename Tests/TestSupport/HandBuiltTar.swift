/// ustar bytes built by hand, for members no well-behaved writer produces on request: absolute
/// and `..` names, links, devices, fifos, sizes the data does not back.
public struct HandBuiltTar {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Type flags of the ustar standard.
    public enum Kind: UInt8 {
        case file = 0x30, hardLink = 0x31, symbolicLink = 0x32, characterDevice = 0x33
        case blockDevice = 0x34, directory = 0x35, fifo = 0x36
    }

    /// Appends a member; `claimedSize` (default: the data's) goes in the header whatever follows.
    public mutating func add(_ name: String, _ data: [UInt8] = [], kind: Kind = .file, linkTarget: String = "",
                             claimedSize: Int? = nil) {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, b) in text.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int, digits: Int) -> String {
            let s = String(value, radix: 8)
            return String(repeating: "0", count: max(0, digits - s.count)) + s
        }
        put(name, at: 0, width: 100)
        put("0000644\0", at: 100, width: 8)
        put("0000000\0", at: 108, width: 8)
        put("0000000\0", at: 116, width: 8)
        put(octal(claimedSize ?? data.count, digits: 11) + "\0", at: 124, width: 12)
        put("00000000000\0", at: 136, width: 12)
        h[156] = kind.rawValue
        put(linkTarget, at: 157, width: 100)
        put("ustar\0" + "00", at: 257, width: 8)
        put("0000000\0", at: 329, width: 8)
        put("0000000\0", at: 337, width: 8)
        put("        ", at: 148, width: 8)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, digits: 6) + "\0 ", at: 148, width: 8)
        bytes += h
        bytes += data
        bytes += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// The archive with its two end-of-archive blocks, padded to a 10240-byte record.
    public var finished: [UInt8] {
        var out = bytes + [UInt8](repeating: 0, count: 1024)
        out += [UInt8](repeating: 0, count: (10240 - out.count % 10240) % 10240)
        return out
    }
}
