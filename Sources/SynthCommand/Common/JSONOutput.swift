import Foundation

enum JSONOutput {
    /// Pretty, key-sorted JSON: stable for diffs and scripts.
    static func string<T: Encodable>(_ value: T) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! e.encode(value), as: UTF8.self)
    }
}
