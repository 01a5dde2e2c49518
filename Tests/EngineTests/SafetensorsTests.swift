import Foundation
import Testing
import TestSupport
@testable import Engine
import Support

@Suite struct SafetensorsTests {
    /// One tensor of every dtype, with values each dtype holds exactly, plus the awkward shapes.
    static func sampleEntries() -> [SafetensorsEntry] {
        [
            SafetensorsEntry(name: "conv.weight", shape: [2, 1, 2, 3], values: (0..<12).map { Float($0) / 7 - 0.8 }),
            SafetensorsEntry(name: "bn.num_batches_tracked", shape: [], dtype: .i64, values: [1_234_567]),
            SafetensorsEntry(name: "bn.running_mean", shape: [3], dtype: .f64, values: [0.1, -2.5, 3e-8]),
            SafetensorsEntry(name: "half", shape: [4], dtype: .f16, values: [0.5, -1.25, 65504, 0]),
            SafetensorsEntry(name: "brain", shape: [2, 2], dtype: .bf16, values: [1, -0.5, 3.140625, 0x1p100]),
            SafetensorsEntry(name: "counts", shape: [3], dtype: .i32, values: [-7, 0, 16_777_216]),
            SafetensorsEntry(name: "empty", shape: [0, 5], values: []),
            SafetensorsEntry(name: "ünï.çødé", shape: [1], values: [42]),
        ]
    }

    static let sampleMetadata: [String: String] = [
        "arch": "ref-cnn",
        "config": #"{"classes": ["T-shirt/top", "Ankle boot"], "mean": 0.286, "nested": {"a": [1, 2]}}"#,
        "unicode": "Größe ✓ 日本語 🙂",
        "escapes": "quote \" backslash \\ newline \n tab \t bell \u{07} slash /",
    ]

    @Test func roundTripKeepsValuesShapesDtypesAndMetadata() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("m.safetensors")
        let entries = Self.sampleEntries()
        try Safetensors.write(entries, metadata: Self.sampleMetadata, to: path)
        let file = try Safetensors.read(path)

        #expect(file.metadata == Self.sampleMetadata)
        #expect(Set(file.names) == Set(entries.map(\.name)))
        for e in entries {
            let got = try #require(file.entries[e.name])
            #expect(got.shape == e.shape, "\(e.name)")
            #expect(got.dtype == e.dtype, "\(e.name)")
            if e.dtype == .f64 {
                #expect(got.array == e.array.map { Float(Double($0)) })
            } else {
                #expect(got.array == e.array, "\(e.name)")
            }
        }
        // Data order is the crate's: widest alignment first, then by name.
        #expect(file.names == ["bn.num_batches_tracked", "bn.running_mean", "conv.weight", "empty", "ünï.çødé", "counts", "brain", "half"])
        #expect(file.ordered.map(\.name) == file.names)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.safetensors"])
    }

    @Test func writingIsByteDeterministicAndAligned() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let a = dir.file("a.safetensors"), b = dir.file("b.safetensors")
        try Safetensors.write(Self.sampleEntries(), metadata: Self.sampleMetadata, to: a)
        // Same content, different input order and dictionary construction order.
        var shuffledMeta: [String: String] = [:]
        for (k, v) in Self.sampleMetadata.sorted(by: { $0.key > $1.key }) { shuffledMeta[k] = v }
        try Safetensors.write(Self.sampleEntries().reversed(), metadata: shuffledMeta, to: b)
        let bytesA = try Files.read(a), bytesB = try Files.read(b)
        #expect(bytesA == bytesB)

        let n = bytesA.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(n % 8 == 0)
        let header = String(decoding: bytesA[8..<(8 + n)], as: UTF8.self)
        #expect(header.hasPrefix(#"{"__metadata__":{"arch":"ref-cnn","config":"#))
        #expect(!header.trimmingCharacters(in: .whitespaces).hasSuffix(" "))
        #expect(header.contains(#""bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}"#))

        // Overwriting an existing file replaces it whole.
        try Safetensors.write([SafetensorsEntry(name: "x", shape: [1], values: [1])], to: a)
        #expect(try Safetensors.read(a).names == ["x"])
    }

    @Test func writeRejectsWhatCannotBeStored() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("bad.safetensors")
        func expectError(_ entries: [SafetensorsEntry], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                try Safetensors.write(entries, to: path)
                Issue.record("no error, expected '\(fragment)'", sourceLocation: sourceLocation)
            } catch {
                let message = "\(error)"
                #expect(message.hasPrefix(path + ": ") && message.contains(fragment), "\(message)", sourceLocation: sourceLocation)
            }
        }
        expectError([SafetensorsEntry(name: "n", shape: [], dtype: .i64, values: [1.5])], "not a I64 integer")
        expectError([SafetensorsEntry(name: "n", shape: [2], values: [1])], "does not hold 1 values")
        expectError([SafetensorsEntry(name: "a", shape: [1], values: [1]), SafetensorsEntry(name: "a", shape: [1], values: [2])], "two tensors named 'a'")
        expectError([SafetensorsEntry(name: "__metadata__", shape: [1], values: [1])], "__metadata__")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)

        do {
            try Safetensors.write([], to: dir.file("no/such/dir/x.safetensors"))
            Issue.record("writing into a missing directory succeeded")
        } catch {
            #expect("\(error)".contains("no/such/dir/x.safetensors: cannot create a temporary file"))
        }
    }

    // MARK: Bad files

    /// A file with `header` as its JSON (unpadded) and `data` after it.
    static func rawFile(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
        return out + h + data
    }

    static let badFiles: [(String, [UInt8], String)] = [
        ("empty", [], "shorter than the 8-byte header length"),
        ("truncated length", [8, 0, 0], "shorter than the 8-byte header length"),
        ("header longer than file", rawFile("{}", length: 4096), "header length 4096 runs past the end of the file"),
        ("absurd header length", rawFile("{}", length: UInt64.max), "exceeds the 100000000-byte limit"),
        ("truncated header", Array(rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 128, 63]).prefix(30)), "runs past the end of the file"),
        ("invalid JSON", rawFile(#"{"a":{"dtype":"F32","#), "header is not valid JSON"),
        ("not UTF-8", rawFile("{\"\u{FF}\":1}").map { $0 == 0xC3 ? 0xFF : $0 }, "header is not UTF-8"),
        ("not an object", rawFile("[1, 2]"), "does not start with '{'"),
        ("missing field", rawFile(#"{"a":{"dtype":"F32","shape":[1]}}"#, data: [0, 0, 0, 0]), "'a' lacks \"data_offsets\""),
        ("wrong type", rawFile(#"{"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "'a'.'shape' has the wrong type"),
        ("metadata not strings", rawFile(#"{"__metadata__":{"epochs":5}}"#), "'__metadata__'.'epochs' has the wrong type"),
        ("three offsets", rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, data: [0, 0, 0, 0]), "data_offsets must be [begin, end]"),
        ("negative offset", rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#), "negative data_offsets"),
        ("negative dimension", rawFile(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#), "negative dimension"),
        ("offsets out of range", rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), "run past the 4 data bytes"),
        ("end before begin", rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), "end before they begin"),
        ("overlap", rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)), "'b' data_offsets [4, 8] overlap the previous tensor"),
        ("gap", rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)), "leave a gap after byte 0"),
        ("size mismatch", rawFile(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), "shape [3] of F32 needs 3 x 4 bytes but data_offsets [0, 8] hold 8"),
        ("dtype size mismatch", rawFile(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 4)), "needs 1 x 8 bytes"),
        ("overflowing shape", rawFile(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "is too large"),
        ("unconvertible dtype", rawFile(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "dtype U8, which synth does not read"),
        ("unknown dtype", rawFile(#"{"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "dtype Q7, which synth does not read"),
        ("trailing bytes", rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 12)), "data ends at byte 4 but the file holds 12 data bytes"),
        ("truncated data", Array(rawFile(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: Array(repeating: 0, count: 16)).dropLast(3)), "run past the 13 data bytes"),
    ]

    @Test(arguments: badFiles.indices)
    func badFileIsAOneLineErrorNamingIt(_ index: Int) throws {
        let (what, bytes, fragment) = Self.badFiles[index]
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("bad.safetensors")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        do {
            let file = try Safetensors.read(path)
            Issue.record("\(what): read succeeded with \(file.names)")
        } catch let error as SynthError {
            #expect(error.message.hasPrefix(path + ": not a valid safetensors file: "), "\(what): \(error.message)")
            #expect(error.message.contains(fragment), "\(what): \(error.message)")
            #expect(!error.message.contains("\n"), "\(what)")
        }
    }

    @Test func missingFileAndDirectoryAreErrors() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let missing = dir.file("nope.safetensors")
        for (path, message) in [(missing, "\(missing): no such file or directory"), (dir.path, "\(dir.path): is a directory, expected a file")] {
            do {
                _ = try Safetensors.read(path)
                Issue.record("read of \(path) succeeded")
            } catch {
                #expect("\(error)" == message)
            }
        }
    }

    @Test func emptyFileWithMetadataOnlyMatchesTheCrate() throws {
        // The crate's own test vectors (safetensors/src/tensor.rs, test_empty).
        #expect(try Safetensors.serialize([]) == [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        let withMeta = try Safetensors.serialize([], metadata: ["framework": "pt"])
        #expect(withMeta == [8 + 32, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"__metadata__":{"framework":"pt"}}"#.utf8) + [32, 32, 32, 32, 32])
        #expect(try Safetensors.parse(withMeta).metadata == ["framework": "pt"])
    }

    // MARK: Layers

    /// A stand-in for BatchNorm's state: a parameter, running stats and an integer counter.
    final class StatefulLayer: Layer {
        let weight = Tensor(zeros: [3], requiresGrad: true)
        let runningMean = Tensor(zeros: [3])
        let numBatchesTracked = Tensor(zeros: [])
        override var ownState: [StateEntry] {
            [StateEntry("weight", weight), StateEntry("running_mean", runningMean, isParameter: false),
             StateEntry("num_batches_tracked", numBatchesTracked, isParameter: false, isInteger: true)]
        }
    }

    static func model(seed: UInt64) -> Sequential {
        var rng = RNG(seed: seed)
        let bn = StatefulLayer()
        for i in 0..<3 { bn.weight[i] = rng.uniform(); bn.runningMean[i] = rng.uniform() }
        bn.numBatchesTracked[0] = Float(seed * 100)
        return Sequential(Linear(4, 3, rng: &rng), bn, Linear(3, 2, rng: &rng))
    }

    @Test func layerStateRoundTripsThroughAFile() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("model.safetensors")
        let source = Self.model(seed: 1), target = Self.model(seed: 2)
        let entries = source.stateEntries()
        #expect(entries.map(\.name) == ["0.weight", "0.bias", "1.weight", "1.running_mean", "1.num_batches_tracked", "2.weight", "2.bias"])
        #expect(entries.first { $0.name == "1.num_batches_tracked" }?.dtype == .i64)
        try Safetensors.write(entries, metadata: ["arch": "test"], to: path)
        try target.load(Safetensors.read(path).entries, file: path)
        for (s, t) in zip(source.stateDict(), target.stateDict()) {
            #expect(s.tensor.array == t.tensor.array, "\(s.name)")
        }
    }

    @Test func loadRejectsMissingMisshapenAndExtraTensorsWithoutTouchingTheModel() throws {
        let file = "ckpt/model.safetensors"
        let source = Self.model(seed: 1)
        let good = Dictionary(uniqueKeysWithValues: source.stateEntries().map { ($0.name, $0) })

        func expectError(_ entries: [String: SafetensorsEntry], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let target = Self.model(seed: 2)
            let before = target.stateDict().map(\.tensor.array)
            do {
                try target.load(entries, file: file)
                Issue.record("load succeeded", sourceLocation: sourceLocation)
            } catch {
                #expect("\(error)" == message, sourceLocation: sourceLocation)
            }
            #expect(target.stateDict().map(\.tensor.array) == before, "model changed by a failed load", sourceLocation: sourceLocation)
        }

        var missing = good; missing["1.running_mean"] = nil
        expectError(missing, "ckpt/model.safetensors: missing tensor '1.running_mean' the model expects")
        var missingMany = good
        for k in ["0.weight", "0.bias", "2.weight", "2.bias"] { missingMany[k] = nil }
        expectError(missingMany, "ckpt/model.safetensors: missing tensors '0.weight', '0.bias', '2.weight' and 1 more the model expects")

        var misshapen = good
        misshapen["2.weight"] = SafetensorsEntry(name: "2.weight", shape: [3, 2], values: [Float](repeating: 0, count: 6))
        expectError(misshapen, "ckpt/model.safetensors: tensor '2.weight' has shape [3, 2] in the file but the model expects [2, 3]")
        var scalar = good
        scalar["1.num_batches_tracked"] = SafetensorsEntry(name: "1.num_batches_tracked", shape: [1], dtype: .i64, values: [5])
        expectError(scalar, "ckpt/model.safetensors: tensor '1.num_batches_tracked' has shape [1] in the file but the model expects []")

        var extra = good
        extra["3.weight"] = SafetensorsEntry(name: "3.weight", shape: [1], values: [0])
        expectError(extra, "ckpt/model.safetensors: unexpected tensor '3.weight' the model does not have")
    }

    // MARK: The Python reference implementation

    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is unset or not executable: Python safetensors comparison skipped"))
    func readsAFileWrittenByPythonSafetensors() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("torch.safetensors")
        ReferencePython.run("""
            import sys, torch
            from safetensors.torch import save_file
            t = {
                "features.0.weight": (torch.arange(36, dtype=torch.float32) / 7 - 2).reshape(4, 1, 3, 3),
                "features.1.num_batches_tracked": torch.tensor(1234567, dtype=torch.int64),
                "features.1.running_var": torch.tensor([0.5, 1.5, 2.5, 1e-5]),
                "half": torch.tensor([0.5, -1.25, 65504.0], dtype=torch.float16),
                "brain": torch.tensor([1.0, -0.5, 3.140625], dtype=torch.bfloat16),
                "double": torch.tensor([[0.1, 0.2]], dtype=torch.float64),
                "ints": torch.tensor([-3, 0, 70000], dtype=torch.int32),
            }
            save_file(t, sys.argv[1], metadata={"arch": "ref-cnn", "classes": '["T-shirt/top", "Trouser"]', "note": "Größe ✓"})
            """, [path])
        let file = try Safetensors.read(path)
        #expect(file.metadata == ["arch": "ref-cnn", "classes": #"["T-shirt/top", "Trouser"]"#, "note": "Größe ✓"])
        #expect(file.names == ["features.1.num_batches_tracked", "double", "features.0.weight", "features.1.running_var", "ints", "brain", "half"])
        let w = try #require(file.entries["features.0.weight"])
        #expect(w.shape == [4, 1, 3, 3] && w.dtype == .f32)
        #expect(w.array == (0..<36).map { Float($0) / 7 - 2 })
        let nbt = try #require(file.entries["features.1.num_batches_tracked"])
        #expect(nbt.shape == [] && nbt.dtype == .i64 && nbt.array == [1_234_567])
        #expect(file.entries["features.1.running_var"]?.array == [0.5, 1.5, 2.5, 1e-5])
        #expect(file.entries["half"]?.array == [0.5, -1.25, 65504])
        #expect(file.entries["brain"]?.array == [1, -0.5, 3.140625])
        #expect(file.entries["double"]?.shape == [1, 2])
        #expect(file.entries["double"]?.array == [Float(0.1 as Double), Float(0.2 as Double)])
        #expect(file.entries["ints"]?.array == [-3, 0, 70000])
    }

    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is unset or not executable: Python safetensors comparison skipped"))
    func pythonSafeOpenReadsWhatSwiftWrites() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.file("swift.safetensors")
        let entries = Self.sampleEntries()
        try Safetensors.write(entries, metadata: Self.sampleMetadata, to: path)
        let output = try #require(ReferencePython.run("""
            import sys, json
            from safetensors import safe_open
            out = {"tensors": {}}
            with safe_open(sys.argv[1], framework="pt") as f:
                out["metadata"] = f.metadata()
                for k in f.keys():
                    t = f.get_tensor(k)
                    out["tensors"][k] = {"dtype": str(t.dtype), "shape": list(t.shape),
                                         "values": [float(x) for x in t.flatten().tolist()]}
            print(json.dumps(out))
            """, [path]))
        struct Seen: Decodable {
            struct T: Decodable { let dtype: String; let shape: [Int]; let values: [Double] }
            let metadata: [String: String]
            let tensors: [String: T]
        }
        let seen = try JSONDecoder().decode(Seen.self, from: Data(output.utf8))
        #expect(seen.metadata == Self.sampleMetadata)
        #expect(Set(seen.tensors.keys) == Set(entries.map(\.name)))
        let torchName: [SafetensorsEntry.DType: String] = [
            .f32: "torch.float32", .f64: "torch.float64", .f16: "torch.float16",
            .bf16: "torch.bfloat16", .i32: "torch.int32", .i64: "torch.int64",
        ]
        for e in entries {
            let t = try #require(seen.tensors[e.name])
            #expect(t.dtype == torchName[e.dtype], "\(e.name)")
            #expect(t.shape == e.shape, "\(e.name)")
            if e.dtype == .f64 {
                #expect(t.values == e.array.map { Double($0) }, "\(e.name)")
            } else {
                #expect(t.values.map { Float($0) } == e.array, "\(e.name)")
            }
        }
    }

    @Test(.enabled(if: ReferencePython.available, "SYNTH_PYTHON is unset or not executable: Python safetensors comparison skipped"))
    func swiftBytesEqualPythonSaveFileBytes() throws {
        // With at most one metadata key (the crate orders metadata by hash), the two writers
        // must agree on every byte: layout order, JSON form, padding and data.
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let pyPath = dir.file("py.safetensors")
        ReferencePython.run("""
            import sys, torch
            from safetensors.torch import save_file
            save_file({
                "b.weight": (torch.arange(6, dtype=torch.float32) / 3).reshape(2, 3),
                "a.bias": torch.tensor([1.0, -2.0, 0.25]),
                "bn.num_batches_tracked": torch.tensor(7, dtype=torch.int64),
                "h": torch.tensor([0.1, 3.0], dtype=torch.float16),
                "g": torch.tensor([0.1, 3.0], dtype=torch.bfloat16),
                "d": torch.tensor([0.5, -2.25], dtype=torch.float64),
                "i": torch.tensor([5, -5], dtype=torch.int32),
                "z": torch.zeros(0, 3),
            }, sys.argv[1], metadata={"config": '{"a": "é\\\\n\\"x\\"", "t": "\\t"}'})
            """, [pyPath])
        let swiftBytes = try Safetensors.serialize([
            SafetensorsEntry(name: "b.weight", shape: [2, 3], values: (0..<6).map { Float($0) / 3 }),
            SafetensorsEntry(name: "a.bias", shape: [3], values: [1, -2, 0.25]),
            SafetensorsEntry(name: "bn.num_batches_tracked", shape: [], dtype: .i64, values: [7]),
            SafetensorsEntry(name: "h", shape: [2], dtype: .f16, values: [0.1, 3]),
            SafetensorsEntry(name: "g", shape: [2], dtype: .bf16, values: [0.1, 3]),
            SafetensorsEntry(name: "d", shape: [2], dtype: .f64, values: [0.5, -2.25]),
            SafetensorsEntry(name: "i", shape: [2], dtype: .i32, values: [5, -5]),
            SafetensorsEntry(name: "z", shape: [0, 3], values: []),
        ], metadata: ["config": "{\"a\": \"é\\n\"x\"\", \"t\": \"\t\"}"])
        let pyBytes = try Files.read(pyPath)
        let n = 8 + pyBytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        #expect(String(decoding: swiftBytes[8..<n], as: UTF8.self) == String(decoding: pyBytes[8..<n], as: UTF8.self))
        #expect(swiftBytes == pyBytes)
    }
}
