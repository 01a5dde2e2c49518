import Foundation

/// A node's attributes by name, read with the type each operator expects; every read is recorded
/// so an attribute the importer never looked at (one it does not implement) is reported, not
/// silently ignored.
struct ONNXAttributes {
    private let byName: [String: Onnx_AttributeProto]
    private(set) var read: Set<String> = []

    init(_ node: Onnx_NodeProto) {
        var m: [String: Onnx_AttributeProto] = [:]
        for a in node.attribute { m[a.name] = a }
        byName = m
    }

    var names: Set<String> { Set(byName.keys) }

    mutating func has(_ name: String) -> Bool {
        read.insert(name)
        return byName[name] != nil
    }

    mutating func int(_ name: String, default d: Int? = nil) throws -> Int {
        read.insert(name)
        guard let a = byName[name] else {
            if let d { return d }
            throw ONNXProblem("needs the attribute '\(name)'")
        }
        guard a.type == .int || (a.type == .undefined && a.hasI) else { throw ONNXProblem("attribute '\(name)' is not an int") }
        return Int(a.i)
    }

    mutating func float(_ name: String, default d: Float) throws -> Float {
        read.insert(name)
        guard let a = byName[name] else { return d }
        guard a.type == .float || (a.type == .undefined && a.hasF) else { throw ONNXProblem("attribute '\(name)' is not a float") }
        return a.f
    }

    mutating func ints(_ name: String) throws -> [Int]? {
        read.insert(name)
        guard let a = byName[name] else { return nil }
        guard a.type == .ints || a.type == .undefined else { throw ONNXProblem("attribute '\(name)' is not a list of ints") }
        return a.ints.map { Int($0) }
    }

    mutating func floats(_ name: String) throws -> [Float]? {
        read.insert(name)
        guard let a = byName[name] else { return nil }
        guard a.type == .floats || a.type == .undefined else { throw ONNXProblem("attribute '\(name)' is not a list of floats") }
        return a.floats
    }

    mutating func string(_ name: String, default d: String) throws -> String {
        read.insert(name)
        guard let a = byName[name] else { return d }
        guard a.type == .string || (a.type == .undefined && a.hasS) else { throw ONNXProblem("attribute '\(name)' is not a string") }
        return String(decoding: a.s, as: UTF8.self)
    }

    mutating func tensor(_ name: String) throws -> Onnx_TensorProto? {
        read.insert(name)
        guard let a = byName[name] else { return nil }
        guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw ONNXProblem("attribute '\(name)' is not a tensor") }
        return a.t
    }

    /// Attributes present on the node that the operator's mapping never read.
    var unread: [String] { byName.keys.filter { !read.contains($0) }.sorted() }
}
