import Engine
import Foundation

/// A value flowing through an imported graph: float data (activations and weights, on Engine
/// tensors so the autodiff tape runs through them) or integer data (shapes, axes, indices: the
/// Shape/Gather/Unsqueeze/Concat chains exporters emit around a reshape, computed on plain arrays).
enum ONNXValue {
    case float(Tensor)
    case int([Int], shape: [Int])

    var shape: [Int] {
        switch self {
        case .float(let t): return t.shape
        case .int(_, let shape): return shape
        }
    }

    var count: Int { shape.reduce(1, *) }

    /// The same values under another shape (a view for float data: the gradient flows through).
    func reshaped(_ newShape: [Int]) -> ONNXValue {
        switch self {
        case .float(let t): return .float(t.reshaped(newShape))
        case .int(let v, _): return .int(v, shape: newShape)
        }
    }

    /// Integer data as float (ONNX lets shape arithmetic and float arithmetic meet in a Cast).
    var asFloat: Tensor {
        switch self {
        case .float(let t): return t
        case .int(let v, let shape): return Tensor(v.map(Float.init), shape: shape)
        }
    }
}

/// ONNX TensorProto data types synth reads (onnx.proto's TensorProto.DataType).
enum ONNXDataType {
    static let float: Int32 = 1, uint8: Int32 = 2, int8: Int32 = 3, int32: Int32 = 6, int64: Int32 = 7,
               bool: Int32 = 9, double: Int32 = 11

    static func name(_ t: Int32) -> String {
        switch t {
        case 1: return "float"; case 2: return "uint8"; case 3: return "int8"; case 4: return "uint16"
        case 5: return "int16"; case 6: return "int32"; case 7: return "int64"; case 8: return "string"
        case 9: return "bool"; case 10: return "float16"; case 11: return "double"; case 16: return "bfloat16"
        default: return "type \(t)"
        }
    }
}

/// The largest tensor an imported file may declare (elements): a bound on what a hostile or
/// corrupt file can make synth allocate (ResNet-50's largest weight holds 2.4M).
let maximumTensorElements = 1 << 28

extension Onnx_TensorProto {
    /// The tensor's values, checked against its declared shape and type; `what` names it in errors.
    func value(_ what: String) throws -> ONNXValue {
        if dataLocation == .external {
            throw ONNXProblem("\(what) keeps its data in an external file, which synth does not read (export without external data: the model must be one file)")
        }
        guard dims.allSatisfy({ $0 >= 0 && $0 <= Int64(maximumTensorElements) }) else {
            throw ONNXProblem("\(what) has dims \(dims)")
        }
        let shape = dims.map { Int($0) }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maximumTensorElements else { throw ONNXProblem("\(what) has \(dims) elements, more than synth reads") }
            count = p
        }
        func checked<T>(_ values: [T]) throws -> [T] {
            guard values.count == count else {
                throw ONNXProblem("\(what) holds \(values.count) values for shape \(shape)")
            }
            return values
        }
        func raw<T>(_ type: T.Type) throws -> [T] {
            let size = MemoryLayout<T>.size
            guard rawData.count == count * size else {
                throw ONNXProblem("\(what) holds \(rawData.count) bytes of raw data for \(count) \(ONNXDataType.name(dataType)) values")
            }
            // ONNX raw data is little-endian, as every machine synth runs on.
            return rawData.withUnsafeBytes { bytes in (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * size, as: T.self) } }
        }
        let hasRaw = !rawData.isEmpty || (count == 0)
        switch dataType {
        case ONNXDataType.float:
            let v = hasRaw && floatData.isEmpty ? try raw(Float.self) : try checked(floatData)
            return .float(Tensor(v, shape: shape))
        case ONNXDataType.double:
            let v = hasRaw && doubleData.isEmpty ? try raw(Double.self) : try checked(doubleData)
            return .float(Tensor(v.map { Float($0) }, shape: shape))
        case ONNXDataType.int64:
            let v = hasRaw && int64Data.isEmpty ? try raw(Int64.self) : try checked(int64Data)
            return .int(v.map { Int($0) }, shape: shape)
        case ONNXDataType.int32:
            let v = hasRaw && int32Data.isEmpty ? try raw(Int32.self).map(Int.init) : try checked(int32Data).map(Int.init)
            return .int(v, shape: shape)
        case ONNXDataType.int8, ONNXDataType.uint8, ONNXDataType.bool:
            // Stored one per byte in raw data, or widened into int32_data.
            if hasRaw && int32Data.isEmpty {
                let bytes = try raw(UInt8.self)
                return .int(bytes.map { dataType == ONNXDataType.int8 ? Int(Int8(bitPattern: $0)) : Int($0) }, shape: shape)
            }
            return .int(try checked(int32Data).map(Int.init), shape: shape)
        default:
            throw ONNXProblem("\(what) holds \(ONNXDataType.name(dataType)) data, which synth does not read (float, double, int64, int32, int8, uint8, bool)")
        }
    }
}

/// The number of elements of `shape`, or nil when a dimension is negative or the product
/// overflows or passes `maximumTensorElements`: shapes computed inside a graph (Reshape targets,
/// broadcasts) come from the file and must not trap on the way to an error message.
func boundedCount(_ shape: [Int]) -> Int? {
    var count = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow, p <= maximumTensorElements else { return nil }
        count = p
    }
    return count
}

/// Refuses a value of `shape` larger than synth reads, before it is allocated: a hostile or
/// corrupt graph (huge pads, strides, broadcasts, a grouped kernel made dense) must not make synth
/// allocate without bound.
func checkSize(_ shape: [Int], _ what: String) throws {
    guard shape.allSatisfy({ $0 >= 0 }) else { throw ONNXProblem("\(what) would have shape \(shape)") }
    guard boundedCount(shape) != nil else { throw ONNXProblem("\(what) would be \(shape), more than synth computes") }
}

/// A problem with an imported graph, raised where it is found; `ONNXModel` prefixes the file
/// and, where there is one, the node (name and op).
struct ONNXProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
