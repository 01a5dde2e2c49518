import Foundation
import Testing
@testable import Engine
import Support

/// The interpreter with PyTorch (scripts/test points SYNTH_PYTHON at the project's venv).
private let python: String? = {
    guard let p = ProcessInfo.processInfo.environment["SYNTH_PYTHON"], FileManager.default.isExecutableFile(atPath: p) else {
        return nil
    }
    return p
}()

/// Each spatial op against PyTorch on the same inputs: values and the gradients of sum(out * r).
///
/// Inputs are exact binary fractions from an integer formula both sides evaluate, so no data
/// crosses over but the case list (JSON on stdin) and PyTorch's results (JSON back).
@Suite(.enabled(if: python != nil, "SYNTH_PYTHON is unset or not executable: PyTorch comparisons skipped"))
struct SpatialTorchTests {
    /// One op application: the input shapes (each filled by `fixture` with seed = position + 1)
    /// and the op's parameters, as the Python side reads them.
    struct Case {
        var op: String
        var inputs: [[Int]]
        var params: [String: Any] = [:]
        /// Values and gradients must agree to this fraction of the tensor's largest magnitude.
        var tol: Float = 2e-6

        var json: [String: Any] { ["op": op, "inputs": inputs, "params": params] }
    }

    static let inputScale: Float = 1.0 / 64, weightScale: Float = 1.0 / 1024, seedScale: Float = 1.0 / 256

    /// Distinct values (a permutation of 0..<1009, centred) times `scale`: exact in Float32.
    static func fixture(_ shape: [Int], seed: Int, scale: Float) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: true)
        for i in 0..<t.count { t.ptr[i] = Float((i * 7919 + seed * 104_729) % 1009 - 504) * scale }
        return t
    }

    static func cases() -> [Case] {
        var cases: [Case] = []
        // conv2d: (x shape, weight shape, bias, stride, padding)
        for (x, w, bias, s, p) in [
            ([2, 3, 7, 5], [4, 3, 3, 3], true, 1, 1),
            ([2, 3, 8, 7], [4, 3, 3, 3], false, 2, 0),
            ([1, 2, 7, 6], [3, 2, 3, 3], true, 2, 1),
            ([2, 2, 5, 6], [3, 2, 3, 3], true, 1, 2),
            ([2, 3, 4, 5], [4, 3, 1, 1], true, 1, 0),
            ([2, 1, 28, 28], [4, 1, 3, 3], true, 1, 1),
            ([3, 8, 14, 14], [16, 8, 3, 3], true, 1, 1),
            ([2, 3, 9, 6], [2, 3, 2, 4], true, 2, 1),     // non-square kernel
            ([2, 2, 6, 7], [3, 2, 2, 3], true, 1, 1),     // same width, taller output
            ([2, 2, 6, 7], [3, 2, 5, 5], false, 1, 2),
        ] as [([Int], [Int], Bool, Int, Int)] {
            cases.append(Case(op: "conv2d", inputs: [x, w] + (bias ? [[w[0]]] : []),
                              params: ["stride": s, "padding": p], tol: 1e-5))
        }
        // convTranspose2d: (x shape, weight shape, bias, stride, padding, outputPadding)
        for (x, w, bias, s, p, op) in [
            ([2, 3, 7, 7], [3, 2, 4, 4], true, 2, 1, 0),
            ([2, 2, 4, 3], [2, 3, 3, 3], true, 1, 0, 0),
            ([1, 2, 4, 4], [2, 2, 3, 3], false, 1, 1, 0),
            ([2, 2, 3, 5], [2, 2, 3, 3], true, 2, 1, 1),
            ([2, 4, 7, 7], [4, 8, 4, 4], true, 2, 1, 0),
        ] as [([Int], [Int], Bool, Int, Int, Int)] {
            cases.append(Case(op: "conv_transpose2d", inputs: [x, w] + (bias ? [[w[1]]] : []),
                              params: ["stride": s, "padding": p, "output_padding": op], tol: 1e-5))
        }
        for (k, s) in [(2, 2), (3, 2), (3, 1), (2, 1)] {
            cases.append(Case(op: "max_pool2d", inputs: [[2, 3, 9, 8]], params: ["kernel": k, "stride": s]))
            cases.append(Case(op: "avg_pool2d", inputs: [[2, 3, 9, 8]], params: ["kernel": k, "stride": s]))
        }
        cases.append(Case(op: "global_avg_pool", inputs: [[2, 3, 5, 7]]))
        for mode in ["nearest", "bilinear"] {
            for (h, w, oh, ow) in [(7, 7, 14, 14), (14, 14, 28, 28), (28, 28, 14, 14), (28, 28, 7, 7),
                                   (5, 5, 3, 3), (6, 9, 4, 13), (3, 3, 8, 8), (7, 7, 7, 7), (28, 28, 10, 10)] {
                cases.append(Case(op: "resize", inputs: [[2, 2, h, w]], params: ["size": [oh, ow], "mode": mode]))
            }
        }
        for (shape, sigma, k) in [([2, 2, 9, 9], 1.0, 5), ([1, 3, 8, 11], 0.6, 3), ([1, 1, 28, 28], 2.0, 9)] as [([Int], Double, Int)] {
            cases.append(Case(op: "gaussian_blur", inputs: [shape], params: ["sigma": sigma, "kernel": k]))
        }
        cases.append(Case(op: "concat", inputs: [[2, 1, 3, 2], [2, 3, 3, 2], [2, 2, 3, 2]], params: ["axis": 1]))
        cases.append(Case(op: "concat", inputs: [[1, 2, 3], [2, 2, 3]], params: ["axis": 0]))
        return cases
    }

    /// What the Swift side computes for a case, from its fixtures.
    static func apply(_ c: Case, _ xs: [Tensor]) -> Tensor {
        let p = c.params
        switch c.op {
        case "conv2d":
            return conv2d(xs[0], xs[1], xs.count > 2 ? xs[2] : nil, stride: p["stride"] as! Int, padding: p["padding"] as! Int)
        case "conv_transpose2d":
            return convTranspose2d(xs[0], xs[1], xs.count > 2 ? xs[2] : nil, stride: p["stride"] as! Int,
                                   padding: p["padding"] as! Int, outputPadding: p["output_padding"] as! Int)
        case "max_pool2d": return maxPool2d(xs[0], kernel: p["kernel"] as! Int, stride: p["stride"] as? Int)
        case "avg_pool2d": return avgPool2d(xs[0], kernel: p["kernel"] as! Int, stride: p["stride"] as? Int)
        case "global_avg_pool": return globalAveragePool(xs[0])
        case "resize":
            let size = p["size"] as! [Int]
            return resize(xs[0], height: size[0], width: size[1], mode: p["mode"] as! String == "nearest" ? .nearest : .bilinear)
        case "gaussian_blur":
            return gaussianBlur(xs[0], sigma: Float(p["sigma"] as! Double), kernelSize: p["kernel"] as? Int)
        case "concat": return concat(xs, axis: p["axis"] as! Int)
        default: preconditionFailure("unknown op \(c.op)")
        }
    }

    static func scale(_ c: Case, input i: Int) -> Float {
        (c.op == "conv2d" || c.op == "conv_transpose2d") && i > 0 ? weightScale : inputScale
    }

    static let script = #"""
import json, sys, torch, torch.nn.functional as F
torch.set_num_threads(1)
def fixture(shape, seed, scale):
    n = 1
    for d in shape: n *= d
    i = torch.arange(n, dtype=torch.int64)
    return (((i * 7919 + seed * 104729) % 1009 - 504).double() * scale).float().reshape(shape)
def blur(x, sigma, k):
    # torchvision.transforms.functional.gaussian_blur: reflect padding, normalised separable kernel
    half = (k - 1) * 0.5
    t = torch.linspace(-half, half, steps=k)
    pdf = torch.exp(-0.5 * (t / sigma).pow(2))
    k1 = pdf / pdf.sum()
    k2 = torch.mm(k1[:, None], k1[None, :]).expand(x.shape[1], 1, k, k)
    return F.conv2d(F.pad(x, [k // 2] * 4, mode='reflect'), k2, groups=x.shape[1])
cases, scales = json.load(sys.stdin)
results = []
for c, sc in zip(cases, scales):
    xs = [fixture(s, j + 1, sc[j]).requires_grad_() for j, s in enumerate(c['inputs'])]
    p, op = c['params'], c['op']
    b = xs[2] if len(xs) > 2 else None
    if op == 'conv2d': y = F.conv2d(xs[0], xs[1], b, stride=p['stride'], padding=p['padding'])
    elif op == 'conv_transpose2d':
        y = F.conv_transpose2d(xs[0], xs[1], b, stride=p['stride'], padding=p['padding'], output_padding=p['output_padding'])
    elif op == 'max_pool2d': y = F.max_pool2d(xs[0], p['kernel'], p['stride'])
    elif op == 'avg_pool2d': y = F.avg_pool2d(xs[0], p['kernel'], p['stride'])
    elif op == 'global_avg_pool': y = xs[0].mean((2, 3))
    elif op == 'resize':
        y = F.interpolate(xs[0], size=tuple(p['size']), mode=p['mode'], **({'align_corners': False} if p['mode'] == 'bilinear' else {}))
    elif op == 'gaussian_blur': y = blur(xs[0], p['sigma'], p['kernel'])
    elif op == 'concat': y = torch.cat(xs, p['axis'])
    r = fixture(list(y.shape), 99, 1 / 256)
    (y * r).sum().backward()
    results.append({'shape': list(y.shape), 'out': y.detach().flatten().tolist(),
                    'grads': [x.grad.flatten().tolist() for x in xs]})
json.dump(results, open(sys.argv[1], 'w'))
"""#

    static func runTorch(_ cases: [Case]) throws -> [[String: Any]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-spatial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out.json"), errURL = dir.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let scales = cases.map { c in c.inputs.indices.map { Double(scale(c, input: $0)) } }
        let request = try JSONSerialization.data(withJSONObject: [cases.map(\.json), scales])

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python!)
        process.arguments = ["-c", script, outURL.path]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        stdin.fileHandleForWriting.write(request)
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw SynthError("python failed (\(process.terminationStatus)): \(err.suffix(2000))")
        }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: outURL)) as! [[String: Any]]
    }

    @Test func matchesPyTorch() throws {
        let cases = Self.cases()
        let expected = try Self.runTorch(cases)
        #expect(expected.count == cases.count)
        for (c, e) in zip(cases, expected) {
            let xs = c.inputs.enumerated().map { Self.fixture($0.element, seed: $0.offset + 1, scale: Self.scale(c, input: $0.offset)) }
            let y = Self.apply(c, xs)
            let label = "\(c.op) \(c.inputs) \(c.params)"
            #expect(y.shape == e["shape"] as! [Int], "\(label): shape")
            guard y.shape == e["shape"] as! [Int] else { continue }
            let r = Self.fixture(y.shape, seed: 99, scale: Self.seedScale)
            r.requiresGrad = false
            y.backward(seed: r)
            compare(y.array, e["out"] as! [Double], tol: c.tol, "\(label): values")
            for (i, g) in (e["grads"] as! [[Double]]).enumerated() {
                let ours = xs[i].grad.map { Array($0.buffer) } ?? []
                compare(ours, g, tol: c.tol, "\(label): gradient of input \(i)")
            }
        }
    }

    /// Largest difference as a fraction of the reference tensor's largest magnitude.
    private func compare(_ a: [Float], _ b: [Double], tol: Float, _ label: String) {
        #expect(a.count == b.count, "\(label): \(a.count) values, PyTorch has \(b.count)")
        guard a.count == b.count, !b.isEmpty else { return }
        let scale = max(b.map { abs($0) }.max()!, 1e-3)
        var worst = 0.0, at = 0
        for i in b.indices {
            let e = abs(Double(a[i]) - b[i]) / scale
            if !(e <= worst) { worst = e; at = i }
        }
        #expect(worst <= Double(tol), "\(label): element \(at) is \(a[at]), PyTorch \(b[at]) (relative \(worst))")
    }
}
