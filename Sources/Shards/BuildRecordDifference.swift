import Foundation

extension BuildRecord {
    /// The first field (in sorted-key order, as "build.models[0].sha256") where two records
    /// differ, or nil when they are equal: what a refusal to mix two builds' pieces names.
    public func firstDifference(from other: BuildRecord) -> String? {
        JSONValue.firstDifference(JSONValue(encoding: self), JSONValue(encoding: other), at: "build")
    }
}

extension JSONValue {
    static func firstDifference(_ a: JSONValue, _ b: JSONValue, at path: String) -> String? {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() {
                guard let u = x[key], let v = y[key] else { return "\(path).\(key)" }
                if let d = firstDifference(u, v, at: "\(path).\(key)") { return d }
            }
            return nil
        case (.array(let x), .array(let y)):
            for i in 0..<min(x.count, y.count) {
                if let d = firstDifference(x[i], y[i], at: "\(path)[\(i)]") { return d }
            }
            return x.count == y.count ? nil : "\(path) (\(x.count) entries against \(y.count))"
        default:
            return a == b ? nil : path
        }
    }
}
