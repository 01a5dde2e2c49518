import Datasets
import Engine
import Foundation
import ONNX
import Shards
import Support

/// The readers synth runs on files from elsewhere, each as a function of one input's bytes: what
/// libFuzzer drives (Fuzz/, scripts/fuzz) and what the corpus replay test runs in `swift test`.
///
/// The contract every run checks is the project's rule for bad input: a reader either returns or
/// throws a `SynthError` whose message is one line. A trap, an error of another type or a message
/// that spans lines is a finding (`fatalError`, so libFuzzer saves the input); memory errors and
/// leaks are ASan's findings, allocations past libFuzzer's -malloc_limit_mb its own.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// An IDX file, gzip or raw, as the images and (beside a valid one-image file) as the labels.
    case gzipIDX = "gzip-idx"
    /// `PNG.decode`.
    case png
    /// The file as CIFAR-10's test_batch.bin and CIFAR-100's test.bin.
    case cifar
    /// `Safetensors.parse`: header, offsets, shapes and the tensors' values.
    case safetensors
    /// The file as a foreign tar shard (`TarReader`, then `shards:DIR`), and `UstarLayout.scan`.
    case tar
    /// `Manifest.decode` and, when it decodes, `ShardVerifier.checkStructure`.
    case manifest
    /// `SampleRecord.parse`, the per-sample json of a shard.
    case sampleJSON = "sample-json"
    /// `DataSpec(parsing:)`; a spec that parses must parse back from its description.
    case dataSpec = "data-spec"
    /// `ONNXModel(bytes:)`: the protobuf, the graph's mapping onto Engine ops, constant folding and
    /// the trial run on a batch of 2 that import does.
    case onnx

    /// Runs one input through the target; returns only if the readers kept the contract.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .gzipIDX:
            let input = FuzzScratch.shared.write(bytes, as: "input-idx")
            check { _ = try Dataset.load(spec: "idx:\(input),\(FuzzScratch.shared.oneLabel)") }
            check { _ = try Dataset.load(spec: "idx:\(FuzzScratch.shared.oneImage),\(input)") }
        case .png:
            check { _ = try PNG.decode(bytes, path: "input.png") }
        case .cifar:
            FuzzScratch.shared.write(bytes, as: "cifar10/test_batch.bin")
            FuzzScratch.shared.write(bytes, as: "cifar100/test.bin")
            check { _ = try Dataset.load(spec: "cifar10:\(FuzzScratch.shared.path("cifar10")):test") }
            check { _ = try Dataset.load(spec: "cifar100:\(FuzzScratch.shared.path("cifar100")):test") }
        case .safetensors:
            check { _ = try Safetensors.parse(bytes, path: "input.safetensors") }
        case .tar:
            let shard = FuzzScratch.shared.write(bytes, as: "shards/input.tar")
            check { _ = try TarReader.members(of: shard) }
            check { _ = try Dataset.load(spec: "shards:\(FuzzScratch.shared.path("shards"))") }
            check {
                do { _ = try bytes.withUnsafeBytes { try UstarLayout.scan($0) } } catch let p as UstarLayout.Problem {
                    throw SynthError("input.tar: \(p.member.map { "\($0): " } ?? "")\(p.message)")
                }
            }
        case .manifest:
            check {
                let manifest = try Manifest.decode(bytes, path: "manifest.json")
                try ShardVerifier.checkStructure(manifest, path: "manifest.json")
            }
        case .sampleJSON:
            check {
                if case .failure(let f) = SampleRecord.parse(bytes) { throw SynthError("sample.json: \(f.reason)") }
            }
        case .onnx:
            check { _ = try ONNXModel(bytes: bytes, path: "input.onnx") }
        case .dataSpec:
            check {
                let spec = try DataSpec(parsing: String(decoding: bytes, as: UTF8.self))
                let again = try DataSpec(parsing: spec.description)
                guard again == spec else { fatalError("data-spec: \"\(spec.description)\" parses to \"\(again.description)\"") }
            }
        }
    }

    /// Runs `body`; a SynthError must be one line, anything else thrown is a finding.
    private func check(_ body: () throws -> Void) {
        do { try body() } catch let e as SynthError {
            guard !e.message.contains(where: \.isNewline) else { fatalError("\(rawValue): a message of several lines: \(e.message.debugDescription)") }
        } catch {
            fatalError("\(rawValue): threw \(type(of: error)), not a SynthError: \(error)")
        }
    }
}
