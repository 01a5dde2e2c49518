import Engine
import Foundation
import Support
import SwiftProtobuf

/// A classifier graph read from an .onnx file (torch.onnx.export or any exporter, opsets 11-17),
/// ready to run on Engine ops: inference, and the backward pass to the input the CaG inversion
/// needs. The graph is split where the callers need it: `features` runs the input to the
/// penultimate activations (DESIGN.md: the sidecar's `features`, else the input of the last
/// Gemm/MatMul), `head` runs them to the logits.
///
/// At import every node is mapped (an unsupported operator or attribute names the node), what
/// depends only on initialisers is computed once (constant folding), and the graph is run once on
/// a batch of two, so shape problems and an output that is not [N, classes] surface as one-line
/// errors then, never later.
public final class ONNXModel {
    public let path: String
    /// [C, H, W] of the graph's input.
    public let inputShape: [Int]
    public let classes: Int
    /// The penultimate activations' name and per-sample shape; `features` flattens them to [N, D].
    public let featuresName: String
    public let featureShape: [Int]
    public var featureDimension: Int { featureShape.reduce(1, *) }
    /// Every BatchNormalization node as an Engine layer, in graph order, named after its node.
    public let batchNorms: [(name: String, layer: BatchNorm)]
    public let opset: Int
    public let producer: String
    /// Operator counts of the graph as read (before folding), for logs.
    public let operatorCounts: [String: Int]

    struct Step {
        let label: String
        let inputs: [String]
        let outputs: [String]
        let kernel: ONNXKernel
        /// Values no later step of the same run reads: released after this step.
        var releases: [String] = []
    }

    let inputName: String
    let outputName: String
    let constants: [String: ONNXValue]
    let featureSteps: [Step]
    let headSteps: [Step]

    /// Reads and checks `path`; `features` overrides the penultimate activations' name.
    public convenience init(path: String, features: String? = nil) throws {
        try self.init(bytes: try Files.read(path), path: path, features: features)
    }

    /// The model in `bytes` (a file's contents); `path` names it in messages.
    public convenience init(bytes: [UInt8], path: String, features: String? = nil) throws {
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
        } catch {
            throw SynthError.file(path, "is not a readable ONNX model: the protobuf decoder says \"\(error)\" (a cut or damaged file?)")
        }
        try self.init(model, path: path, features: features)
    }

    init(_ model: Onnx_ModelProto, path: String, features requestedFeatures: String?) throws {
        func fail(_ problem: String) -> SynthError { SynthError.file(path, problem) }
        self.path = path
        guard model.hasGraph, !model.graph.node.isEmpty else { throw fail("holds no graph: not an ONNX model, or a truncated one") }
        let graph = model.graph
        let defaultOpsets = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let opsetEntry = defaultOpsets.first else { throw fail("declares no ONNX opset") }
        opset = Int(opsetEntry.version)
        guard (11...17).contains(opset) else { throw fail("uses opset \(opset); synth reads opsets 11-17 (torch.onnx.export(..., opset_version=17))") }
        producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")

        // Initialisers (older exporters also list them among the inputs).
        var constants: [String: ONNXValue] = [:]
        for t in graph.initializer {
            do { constants[t.name] = try t.value("initialiser '\(t.name)'") } catch let p as ONNXProblem { throw fail(p.message) }
        }
        let inputs = graph.input.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw fail("has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); synth needs one image input [N, C, H, W]")
        }
        inputName = input.name
        let tensorType = input.type.tensorType
        guard tensorType.elemType == ONNXDataType.float else {
            throw fail("input '\(input.name)' is \(ONNXDataType.name(tensorType.elemType)); synth feeds float pixels")
        }
        let dims = tensorType.shape.dim
        guard dims.count == 4, dims.dropFirst().allSatisfy({ $0.dimValue > 0 && $0.dimValue <= 4096 }) else {
            let shown = dims.map { d -> String in
                switch d.value {
                case .dimValue(let v)?: return String(v)
                case .dimParam(let p)?: return p
                case nil: return "?"
                }
            }
            throw fail("input '\(input.name)' has shape [\(shown.joined(separator: ", "))]; synth needs [N, C, H, W] with C, H, W fixed")
        }
        inputShape = dims.dropFirst().map { Int($0.dimValue) }
        guard inputShape.reduce(1, *) <= 1 << 22 else { throw fail("input '\(input.name)' is \(inputShape) per image, larger than synth reads") }
        guard graph.output.count == 1 else {
            throw fail("has \(graph.output.count) outputs; synth needs one, the logits [N, classes]")
        }
        outputName = graph.output[0].name
        operatorCounts = graph.node.reduce(into: [:]) { $0[$1.opType, default: 0] += 1 }

        // Map every node; fold those whose inputs are all known.
        var steps: [Step] = []
        var norms: [(String, BatchNorm)] = []
        var produced: Set<String> = [inputName]
        var lastLinear: Onnx_NodeProto?
        for (index, node) in graph.node.enumerated() {
            let label = "node '\(node.name.isEmpty ? "#\(index)" : node.name)' (\(node.opType))"
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw fail("\(label): operator domain '\(node.domain)' is not supported (synth maps the default ONNX domain)")
            }
            for name in node.input where !name.isEmpty && constants[name] == nil && !produced.contains(name) {
                throw fail("\(label): input '\(name)' is not produced before it (the graph is not in order, or refers to a missing value)")
            }
            var ctx = ONNXNodeContext(node: node, opset: opset, constants: constants)
            let kernel: ONNXKernel
            var layer: BatchNorm?
            do {
                kernel = try ONNXOperators.compile(&ctx) { layer = $0 }
            } catch let p as ONNXProblem {
                throw fail("\(label): \(p.message)")
            }
            let foldable = node.input.allSatisfy { $0.isEmpty || constants[$0] != nil } && layer == nil
            if foldable {
                do {
                    let values = try Autodiff.withoutGrad { try kernel(node.input.map { $0.isEmpty ? nil : constants[$0] }) }
                    for (name, v) in zip(node.output, values) where !name.isEmpty { constants[name] = v }
                } catch let p as ONNXProblem {
                    throw fail("\(label): \(p.message)")
                }
                continue
            }
            if let layer {
                let base = node.name.isEmpty ? "batchnorm\(norms.count)" : node.name
                let name = norms.contains { $0.0 == base } ? "\(base)#\(norms.count)" : base
                norms.append((name, layer))
            }
            if node.opType == "Gemm" || node.opType == "MatMul" { lastLinear = node }
            steps.append(Step(label: label, inputs: Array(node.input), outputs: Array(node.output), kernel: kernel))
            produced.formUnion(node.output.filter { !$0.isEmpty })
        }
        self.constants = constants
        batchNorms = norms
        guard produced.contains(outputName) else { throw fail("output '\(outputName)' is not computed from the input") }

        // Split at the penultimate activations.
        guard let featuresName = requestedFeatures ?? lastLinear?.input.first else {
            throw fail("has no Gemm or MatMul whose input could serve as the penultimate features; name them in the sidecar (\"features\": NODE_OUTPUT)")
        }
        self.featuresName = featuresName
        guard produced.contains(featuresName), featuresName != inputName else {
            throw fail("features '\(featuresName)' is not an activation computed in the graph")
        }
        func ancestors(of target: String, stoppingAt stop: String?) -> Set<Int> {
            var needed: Set<String> = [target], picked: Set<Int> = []
            for (i, step) in steps.enumerated().reversed() where step.outputs.contains(where: needed.contains) {
                picked.insert(i)
                if step.outputs.contains(where: { $0 == stop }) { continue }
                needed.formUnion(step.inputs.filter { !$0.isEmpty && constants[$0] == nil })
            }
            return picked
        }
        let featurePart = ancestors(of: featuresName, stoppingAt: nil)
        let outputPart = ancestors(of: outputName, stoppingAt: featuresName)
        let headPart = outputPart.subtracting(featurePart)
        var headValues: Set<String> = [featuresName]
        for i in headPart.sorted() {
            for name in steps[i].inputs where !name.isEmpty && constants[name] == nil && !headValues.contains(name) {
                throw fail("\(steps[i].label) reads '\(name)' besides the features '\(featuresName)': the features must be the only way to the output (name others in the sidecar)")
            }
            headValues.formUnion(steps[i].outputs)
        }
        guard featuresName == outputName || outputPart.contains(where: { steps[$0].outputs.contains(featuresName) }) else {
            throw fail("the output '\(outputName)' does not depend on the features '\(featuresName)'")
        }
        featureSteps = Self.withReleases(featurePart.sorted().map { steps[$0] }, keep: featuresName)
        headSteps = Self.withReleases(headPart.sorted().map { steps[$0] }, keep: outputName)

        // One run on a batch of two: every shape is checked now, and the output and features measured.
        let probe = Tensor(zeros: [2] + inputShape, requiresGrad: true)
        let (h, y): (Tensor, Tensor)
        do {
            let raw = try Self.run(featureSteps, constants: constants, start: [inputName: .float(probe)], until: featuresName)
            h = raw.asFloat
            y = try Self.run(headSteps, constants: constants, start: [featuresName: raw], until: outputName).asFloat
        } catch let e as ONNXStepFailure {
            throw fail("\(e.label): \(e.message)")
        }
        guard h.rank >= 2, h.shape[0] == 2 else { throw fail("features '\(featuresName)' are \(h.shape) for a batch of 2, not [N, ...]") }
        featureShape = Array(h.shape.dropFirst())
        guard y.rank == 2, y.shape[0] == 2, y.shape[1] >= 2 else {
            throw fail("output '\(outputName)' is \(y.shape) for a batch of 2; synth needs logits [N, classes]")
        }
        classes = y.shape[1]
    }

    /// [N, C, H, W] (normalised as the card says) to [N, D] penultimate features.
    public func features(_ x: Tensor) throws -> Tensor {
        let h = try evaluate(featureSteps, start: [inputName: .float(x)], until: featuresName)
        return h.rank == 2 ? h : h.reshaped([h.shape[0], h.count / h.shape[0]])
    }

    /// [N, D] features to [N, classes] logits.
    public func head(_ h: Tensor) throws -> Tensor {
        let shaped = h.reshaped([h.shape[0]] + featureShape)
        return try evaluate(headSteps, start: [featuresName: .float(shaped)], until: outputName)
    }

    private func evaluate(_ steps: [Step], start: [String: ONNXValue], until target: String) throws -> Tensor {
        do {
            return try Self.run(steps, constants: constants, start: start, until: target).asFloat
        } catch let e as ONNXStepFailure {
            throw SynthError.file(path, "\(e.label): \(e.message)")
        }
    }

    static func run(_ steps: [Step], constants: [String: ONNXValue], start: [String: ONNXValue], until target: String) throws -> ONNXValue {
        var values = start
        for step in steps {
            let inputs = step.inputs.map { $0.isEmpty ? nil : (values[$0] ?? constants[$0]) }
            let outputs: [ONNXValue]
            do { outputs = try step.kernel(inputs) } catch let p as ONNXProblem { throw ONNXStepFailure(label: step.label, message: p.message) }
            for (name, v) in zip(step.outputs, outputs) where !name.isEmpty { values[name] = v }
            for name in step.releases { values[name] = nil }
        }
        guard let v = values[target] ?? constants[target] else { throw ONNXStepFailure(label: "graph", message: "'\(target)' was not computed") }
        return v
    }

    /// Marks after which step each value is read for the last time (the target is kept).
    static func withReleases(_ steps: [Step], keep: String) -> [Step] {
        var lastUse: [String: Int] = [:]
        for (i, s) in steps.enumerated() { for name in s.inputs + s.outputs where !name.isEmpty { lastUse[name] = i } }
        var out = steps
        for (name, i) in lastUse where name != keep { out[i].releases.append(name) }
        return out
    }
}

struct ONNXStepFailure: Error {
    let label: String
    let message: String
}
