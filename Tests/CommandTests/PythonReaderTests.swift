import Support
import Datasets
import Foundation
import Shards
import Testing
import TestSupport
import PipelineFixtures

/// Datasets of every source, read by the Python tools people load them with: Hugging Face
/// `datasets`, `wids` (through manifest.json), a torch DataLoader with several workers, and
/// manifest.json against manifests/manifest.schema.json. Each reader must give back exactly what
/// synth wrote: keys, labels, the whole per-sample json and the pixels.
@Suite(.enabled(if: Fixtures.fashionAvailable, "needs Fashion-MNIST (apt package dataset-fashion-mnist)"),
       .enabled(if: SourceCommandTests.exist(SourceCommandTests.shippedCaG + SourceCommandTests.shippedGANs + SourceCommandTests.shippedLatent),
                "needs the models scripts/make-models and scripts/make-gan-models ship"),
       .enabled(if: ReferencePython.available, "SYNTH_PYTHON is not set (scripts/test sets it): Python readers not checked"))
struct PythonReaderTests {
    struct Built {
        /// Dataset directory per name: cag, gan, gan-latent, pack, workers (a merged --workers 2 build).
        let dirs: [String: String]
        /// The workers' part manifests, copied before the merge removed them.
        let parts: [String]
        let scratch: String
    }

    /// A few samples of every source from the shipped models (CaG with 2 steps: what it draws does
    /// not matter here), built once per process. Seed 0 gives per-sample seeds >= 2^63, the ones
    /// pyarrow refused while seeds were JSON integers (checked below, so the tests keep covering it).
    static let built: Result<Built, Error> = Result {
        let scratch = NSTemporaryDirectory() + "synth-python-readers-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let env = ["SYNTH_MODELS_DIR": SourceCommandTests.shippedModels]
        func run(_ args: [String]) throws {
            let r = try SynthProcess.run(args, environment: env)
            guard r.status == 0 else { throw BuildFailure("synth \(args.joined(separator: " ")): \(r.stderr)") }
        }
        let common = ["--seed", "0"]
        var dirs: [String: String] = [:]
        for (name, args) in [
            ("cag", ["--source", "cag", "--classes", "0,1", "--per-class", "2", "--source-option", "steps_per_stage=2", "--source-option", "batch=2", "--no-filter"]),
            // Filtered, so the json carries confidence and probs; two shards for the DataLoader's two workers.
            ("gan", ["--source", "gan", "--classes", "0,1", "--per-class", "3", "--shard-size", "3", "--threshold", "0"]),
            // The largest seed, which the build record must not write as an integer.
            ("gan-latent", ["--source", "gan-latent", "--classes", "0,1", "--per-class", "2", "--shard-size", "2", "--no-filter",
                            "--seed", "18446744073709551615"]),
            // Soft labels from a label model, with no filter: probs without confidence, label_models in the record.
            ("labelled", ["--source", "gan-latent", "--classes", "0,1", "--per-class", "2", "--shard-size", "2", "--no-filter",
                          "--label-model", SourceCommandTests.shippedModels + "/filter-ref-cnn.safetensors"]),
        ] {
            dirs[name] = scratch + "/" + name
            try run(["build"] + args + (args.contains("--seed") ? [] : common) + ["--out", dirs[name]!])
        }
        dirs["pack"] = scratch + "/pack"
        try run(["pack", "--data", "fashion-mnist:test@20", "--shard-size", "8", "--out", dirs["pack"]!])

        dirs["workers"] = scratch + "/workers"
        let workerArgs = ["build", "--source", "gan-latent", "--classes", "0,1,2", "--per-class", "2", "--shard-size", "2", "--no-filter",
                          "--workers", "2", "--out", dirs["workers"]!] + common
        try run(workerArgs + ["--worker", "0"]); try run(workerArgs + ["--worker", "1"])
        var parts: [String] = []
        for w in 0..<2 {
            let file = ShardFiles.part(worker: w, of: 2)
            parts.append(scratch + "/" + file)
            try FileManager.default.copyItem(atPath: dirs["workers"]! + "/" + file, toPath: parts[w])
        }
        try run(["merge", dirs["workers"]!])
        return Built(dirs: dirs, parts: parts, scratch: scratch)
    }

    struct BuildFailure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    /// What synth wrote into a dataset's shards, in shard order, read with synth's own tar and PNG
    /// readers: key, the .cls text as a number, the .json member's text, the SHA-256 of the pixels.
    static func written(_ dir: String) throws -> [[String: Any]] {
        let manifest = try Manifest.read(dir + "/manifest.json")
        var samples: [[String: Any]] = []
        for entry in manifest.shardlist {
            let members = try TarReader.members(of: dir + "/" + entry.url)
            for i in stride(from: 0, to: members.count, by: 3) {
                let key = String(members[i].name.prefix(9))
                #expect(members[i].name == key + ".cls" && members[i + 1].name == key + ".json" && members[i + 2].name == key + ".png")
                let image = try PNG.decode(members[i + 2].bytes)
                #expect(image.channels == 1, "the pixel hashes compare gray images only")
                samples.append(["key": key, "cls": Int(String(decoding: members[i].bytes, as: UTF8.self))!,
                                "json": String(decoding: members[i + 1].bytes, as: UTF8.self),
                                "pixels": FileDigest.of(image.pixels).sha256])
            }
        }
        #expect(samples.count == manifest.numSamples)
        return samples
    }

    /// Writes `written(dir)` beside the scratch builds and returns [dir, expected.json] for a script.
    static func expectations(_ names: [String], _ b: Built) throws -> [String] {
        try names.flatMap { name -> [String] in
            let file = b.scratch + "/expected-\(name).json"
            try JSONSerialization.data(withJSONObject: try written(b.dirs[name]!)).write(to: URL(fileURLWithPath: file))
            return [b.dirs[name]!, file]
        }
    }

    /// The comparison every reader's script ends with: `same(sample_fields, expected)`.
    static let compare = """
    import sys, os, json, hashlib
    def same(where, key, cls, meta, image, e):
        assert key == e["key"], (where, key, e["key"])
        assert cls == e["cls"], (where, key, cls, e["cls"])
        assert meta == json.loads(e["json"]), (where, key, meta, e["json"])
        assert hashlib.sha256(image.tobytes()).hexdigest() == e["pixels"], (where, key, "pixels differ")
    pairs = [(sys.argv[i], json.load(open(sys.argv[i + 1]))) for i in range(2, len(sys.argv), 2)]

    """

    @Test func perSampleSeedsIncludeSomeAtOrAbove2To63() throws {
        let b = try Self.built.get()
        var seeds: [UInt64] = []
        for name in ["cag", "gan", "gan-latent"] {
            for sample in try Self.written(b.dirs[name]!) {
                let record = try SampleRecord.parse(Array((sample["json"] as! String).utf8)).get()
                seeds.append(try #require(record.seed, "\(name) \(sample["key"]!): no seed"))
                #expect((sample["json"] as! String).contains(#""seed":"\#(record.seed!)""#), "the seed is a JSON string")
            }
        }
        #expect(seeds.contains { $0 >= 1 << 63 }, "no seed >= 2^63: the readers below would not see one")
    }

    @Test func huggingFaceDatasetsLoadWhatSynthWrote() throws {
        let b = try Self.built.get()
        let script = """
        # No hub: the webdataset builder ships inside datasets.
        os.environ["HF_HUB_OFFLINE"] = "1"; os.environ["HF_DATASETS_OFFLINE"] = "1"
        try:
            import datasets
        except ImportError:
            sys.exit("the Python package datasets is not installed (scripts/setup installs it)")
        datasets.disable_progress_bars()
        for d, expected in pairs:
            m = json.load(open(os.path.join(d, "manifest.json")))
            files = [os.path.join(d, s["url"]) for s in m["shardlist"]]
            ds = datasets.load_dataset("webdataset", data_files={"train": files}, split="train",
                                       cache_dir=os.path.join(sys.argv[1], "hf-cache-" + os.path.basename(d)))
            assert len(ds) == len(expected) == m["num_samples"], (d, len(ds), len(expected))
            for row, e in zip(ds, expected):
                same(d, row["__key__"], row["cls"], row["json"], row["png"], e)
            print(os.path.basename(d), len(ds))
        """
        let out = try #require(ReferencePython.run(Self.compare + script, [b.scratch] + Self.expectations(["cag", "gan", "gan-latent", "pack"], b)))
        #expect(out.contains("cag 4") && out.contains("gan 6") && out.contains("gan-latent 4") && out.contains("pack 20"), "\(out)")
    }

    @Test func widsReadsTheManifestAsAShardIndex() throws {
        let b = try Self.built.get()
        let script = """
        try:
            import wids
        except ImportError:
            sys.exit("the Python package wids is not installed (scripts/setup installs it)")
        for d, expected in pairs:
            ds = wids.ShardListDataset(os.path.join(d, "manifest.json"), cache_dir=os.path.join(sys.argv[1], "wids-cache"))
            assert len(ds) == len(expected), (d, len(ds), len(expected))
            for i, e in enumerate(expected):
                s = ds[i]
                same(d, s["__key__"], s[".cls"], s[".json"], s[".png"], e)
            print(os.path.basename(d), len(ds))
        """
        let out = try #require(ReferencePython.run(Self.compare + script, [b.scratch] + Self.expectations(["gan", "pack", "workers"], b)))
        #expect(out.contains("gan 6") && out.contains("pack 20") && out.contains("workers 6"), "\(out)")
    }

    /// A DataLoader's workers split a WebDataset by shard (README, "Reading a dataset"): a build of
    /// at least as many shards as workers is read once, every sample by one worker. wids is
    /// indexed, so its workers split samples and one shard is enough.
    @Test func dataLoaderWorkersReadEverySampleOnce() throws {
        let b = try Self.built.get()
        let script = """
        import operator, torch, webdataset as wds, wids
        (gan, expected), (cag, one_shard) = pairs
        m = json.load(open(os.path.join(gan, "manifest.json")))
        assert len(m["shardlist"]) == 2, m["shardlist"]
        urls = [os.path.join(gan, s["url"]) for s in m["shardlist"]]
        loader = torch.utils.data.DataLoader(wds.WebDataset(urls, shardshuffle=False).to_tuple("__key__", "cls"), num_workers=2, batch_size=None)
        got = [(k, int(c)) for k, c in loader]
        assert sorted(got) == [(e["key"], e["cls"]) for e in expected], got
        ds = wids.ShardListDataset(os.path.join(cag, "manifest.json"), cache_dir=os.path.join(sys.argv[1], "wids-cache"))
        loader = torch.utils.data.DataLoader(ds, num_workers=2, batch_size=None, collate_fn=operator.itemgetter("__key__", ".cls"))
        got = list(loader)
        assert sorted(got) == [(e["key"], e["cls"]) for e in one_shard], got
        print("ok")
        """
        let out = try ReferencePython.run(Self.compare + script, [b.scratch] + Self.expectations(["gan", "cag"], b))
        #expect(out?.contains("ok") == true)
    }

    /// README's soft-label loop ("Reading a dataset"), run as written on the filtered gan build: it
    /// must train, and the targets it read must be the stored probability vectors (one per sample,
    /// summing to 1, their argmax the class: the build's threshold is 0, so the filter agreed).
    @Test func readmeSoftLabelLoopRuns() throws {
        let b = try Self.built.get()
        let readme = try String(contentsOfFile: ExamplesTests.root + "/README.md", encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "    # soft-label training on a synth build"), "README lost its soft-label block")
        let block = lines[start...].prefix { $0.hasPrefix("    ") }.map { String($0.dropFirst(4)) }
        let code = block.joined(separator: "\n").replacingOccurrences(of: "\"data/gan/*.tar\"", with: "sys.argv[1] + \"/*.tar\"")
        #expect(code.contains("sys.argv[1]"), "the README block no longer reads data/gan")
        let check = """
        import sys
        \(code)
        targets = [p for _, p in ds]
        assert len(targets) == 6, len(targets)
        for t in targets:
            assert t.shape == (10,) and abs(float(t.sum()) - 1) < 1e-4, t
        assert torch.isfinite(loss), loss
        print("soft", len(targets), "argmax", [int(t.argmax()) for t in targets])
        """
        let gan = try #require(b.dirs["gan"])
        let out = try #require(ReferencePython.run(check, [gan]))
        let classes = try Self.written(gan).map { $0["cls"] as! Int }
        #expect(out.contains("soft 6 argmax \(classes)"), "\(out)")
    }

    /// `synth build --out -` read through webdataset's `pipe:` URL gives what the directory build
    /// with the same flags holds (the "gan" build above); an endless stream read for 10 samples
    /// and closed ends synth with exit 0 within a second.
    @Test func webdatasetReadsTheStreamThroughPipe() throws {
        let b = try Self.built.get()
        let synth = try #require(SynthProcess.binary)
        let script = """
        import shlex, subprocess, tarfile, time, webdataset as wds
        os.environ["SYNTH_MODELS_DIR"] = sys.argv[1]
        (d, expected), = pairs
        synth = shlex.quote(\(String(reflecting: synth)))
        build = synth + " build --source gan --classes 0,1 --per-class 3 --shard-size 3 --threshold 0 --seed 0"
        ds = wds.WebDataset("pipe:" + build + " --out -", shardshuffle=False).decode("pill").to_tuple("__key__", "cls", "json", "png")
        got = list(ds)
        assert len(got) == len(expected), (len(got), len(expected))
        for (key, cls, meta, image), e in zip(got, expected):
            same("pipe", key, cls, meta, image, e)
        p = subprocess.Popen(build + " --endless --out -", shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        t = tarfile.open(fileobj=p.stdout, mode="r|")
        names = []
        for m in t:
            names.append(m.name)
            if len(names) == 30: break
        p.stdout.close()
        start = time.time()
        status = p.wait(timeout=30)
        took = time.time() - start
        assert status == 0, (status, p.stderr.read())
        assert took < 1, took
        assert names[0] == "000000000.cls" and names[29] == "000000009.png", names
        print("pipe", len(got), "closed after 10 samples, exit", status)
        """
        let out = try #require(ReferencePython.run(Self.compare + script, [SourceCommandTests.shippedModels] + Self.expectations(["gan"], b)))
        #expect(out.contains("pipe 6 closed after 10 samples, exit 0"), "\(out)")
    }

    @Test func everySourcesManifestValidatesAgainstTheSchema() throws {
        let b = try Self.built.get()
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../manifests/manifest.schema.json").standardized.path
        let script = """
        import sys, json
        try:
            import jsonschema
        except ImportError:
            sys.exit("python3-jsonschema is not installed (scripts/setup installs it)")
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        v = jsonschema.Draft202012Validator(schema)
        def integers(x, where):
            if isinstance(x, dict):
                for k, y in x.items(): yield from integers(y, where + "." + k)
            elif isinstance(x, list):
                for i, y in enumerate(x): yield from integers(y, where + "[%d]" % i)
            elif isinstance(x, int) and not isinstance(x, bool):
                yield where, x
        for path in sys.argv[2:]:
            m = json.load(open(path))
            errors = [e.json_path + ": " + e.message for e in v.iter_errors(m)]
            assert not errors, (path, errors)
            # DESIGN: every number fits a signed 64-bit integer or is a float.
            wide = [(w, n) for w, n in integers(m, "$") if not -2**63 <= n < 2**63]
            assert not wide, (path, wide)
        # The seed is a string: the integer form (what synth wrote before, pyarrow refuses above 2^63) is not what synth writes now.
        old = json.load(open(sys.argv[2])); old["build"]["seed"] = int(old["build"]["seed"])
        assert not v.is_valid(old)
        # The schema can fail: a shard without its hash is refused.
        bad = json.load(open(sys.argv[2])); del bad["shardlist"][0]["sha256"]
        assert not v.is_valid(bad)
        print(len(sys.argv) - 2)
        """
        // Every source, a --label-model build, a merged --workers build and its parts, and the filtered replay build of BuildCommandTests.
        let manifests = ["cag", "gan", "gan-latent", "labelled", "pack", "workers"].map { b.dirs[$0]! + "/manifest.json" } + b.parts
            + [try BuildCommandTests.baseline.get().dir + "/manifest.json"]
        let out = try ReferencePython.run(script, [schema] + manifests)
        #expect(out?.trimmingCharacters(in: .whitespacesAndNewlines) == String(manifests.count))
    }
}
