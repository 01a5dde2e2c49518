import Foundation
import Measure
import PipelineFixtures
import Testing
import TestSupport

/// The shipped examples (deploy/ and manifests/examples/) run as written, shrunk through the
/// overrides they document, with the models the checkout ships.
@Suite(.enabled(if: Fixtures.fashionAvailable && SourceCommandTests.exist(SourceCommandTests.shippedCaG + SourceCommandTests.shippedGANs),
                "needs Fashion-MNIST and the shipped models"))
struct ExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let models = root + "/models"
    static let examples = ["deploy/kubernetes-indexed-job.yaml", "deploy/slurm-array.sh",
                           "manifests/examples/gan-fmnist.sh", "manifests/examples/replay-baseline.sh"]

    static func text(_ file: String) throws -> String { try String(contentsOfFile: root + "/" + file, encoding: .utf8) }

    /// Every model an example names is a file of models/ (as `$MODELS/X` in scripts, `/models/X`
    /// in the pod, whose models volume is a copy of models/), CaG examples are judged by CaG's
    /// default filter (the second ref-cnn; the GANs' resnet-s keeps no CaG Sandal or Sneaker), and
    /// the teacher's statistics lie beside it.
    @Test func everyExampleNamesShippedModels() throws {
        let reference = try Regex(#"(\$MODELS|/models)/([A-Za-z0-9_.-]+\.safetensors)"#)
        for file in Self.examples {
            // What runs: the lines that are not comments.
            let text = try Self.text(file).split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
                .joined(separator: "\n")
            let named = text.matches(of: reference).map { String(text[$0.range]).components(separatedBy: "/").last! }
            #expect(!named.isEmpty, "\(file) names no model")
            #expect(named.count == text.components(separatedBy: ".safetensors").count - 1,
                    "\(file): a model path outside the models directory")
            for name in named {
                #expect(FileManager.default.fileExists(atPath: Self.models + "/" + name), "\(file) names \(name), not in models/")
            }
            if text.contains("--source cag") || text.contains(#""--source", "cag""#) {
                #expect(named.contains("filter-ref-cnn.safetensors") && !named.contains("filter-resnet-s.safetensors"), "\(file): \(named)")
                #expect(named.contains("teacher-ref-cnn.safetensors") && named.contains("cag-ref-recon.safetensors"), "\(file): \(named)")
            }
            if file.hasSuffix(".sh") {
                let syntax = try Self.bash(["-n", Self.root + "/" + file], environment: [:], in: Self.root)
                #expect(syntax.status == 0, "\(file): \(syntax.stderr)")
            }
        }
    }

    /// The Indexed Job's build command (two pods, a few samples) and then the merge Job's command
    /// give a dataset that verifies; the Job runs as many pods as the command names workers.
    @Test func kubernetesJobRunsAsWritten() throws {
        let yaml = try Self.text("deploy/kubernetes-indexed-job.yaml")
        let commands = try Self.flowLists(after: "command:", in: yaml)
        #expect(commands.count == 2)
        guard commands.count == 2, commands[0].starts(with: ["synth", "build"]), commands[1].prefix(2) == ["sh", "-c"] else {
            Issue.record("expected a synth build command and a merge command: \(commands)"); return
        }
        var build = Array(commands[0].dropFirst())
        let workers = Self.value(of: "--workers", in: build)
        for key in ["completions", "parallelism"] {
            let count = yaml.firstMatch(of: try Regex("\(key): *([0-9]+)")).map { String(yaml[$0.range].split(separator: " ").last!) }
            #expect(count != nil && count == workers, "the Job's \(key) \(count ?? "?") is not --workers \(workers ?? "?")")
        }
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        func local(_ arg: String) -> String {
            arg.replacingOccurrences(of: "/models/", with: Self.models + "/").replacingOccurrences(of: "/data/", with: dir.file("data/"))
        }
        build = build.map(local)
        for (flag, small) in [("--classes", "2"), ("--per-class", "1"), ("--shard-size", "1"), ("--workers", "2")] {
            guard let i = build.firstIndex(of: flag) else { Issue.record("no \(flag) in \(build)"); return }
            build[i + 1] = small
        }
        // Unfiltered so that a 1-step CaG candidate counts: the filter's file is checked above.
        if let i = build.firstIndex(of: "--filter") { build.replaceSubrange(i ... i + 1, with: ["--no-filter"]) }
        build += ["--source-option", "steps_per_stage=1", "--source-option", "batch=1"]
        for index in 0..<2 {
            let r = try SynthProcess.run(build, environment: ["JOB_COMPLETION_INDEX": String(index)])
            #expect(r.status == 0, "pod \(index): \(r.stderr)")
        }
        let merge = try Self.bash(["-c", local(commands[1][2])], environment: [:], in: dir.path)
        #expect(merge.status == 0, "merge Job: \(merge.stdout) \(merge.stderr)")
        #expect(merge.stdout.contains("checks out"), "\(merge.stdout)")
    }

    /// The Slurm script as three array tasks (their SLURM_ARRAY_TASK_ID and _COUNT), then the merge
    /// its header shows. scripts/slurm-test submits it to a real Slurm.
    @Test func slurmArrayRunsAsWritten() throws {
        let script = try Self.text("deploy/slurm-array.sh")
        #expect(script.contains("#SBATCH --array=0-7") && script.contains("SLURM_ARRAY_TASK_COUNT:-8}"),
                "the default array and worker count differ")
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let out = dir.file("cag")
        for task in 0..<3 {
            let env = ["SLURM_ARRAY_TASK_ID": String(task), "SLURM_ARRAY_TASK_COUNT": "3", "OUT": out, "MODELS": Self.models,
                       "CLASSES": "3", "PER_CLASS": "1", "SHARD_SIZE": "1", "FILTER": "none"]
            let r = try Self.bash([Self.root + "/deploy/slurm-array.sh", "--source-option", "steps_per_stage=1", "--source-option", "batch=1"],
                                  environment: env, in: dir.path)
            #expect(r.status == 0, "task \(task): \(r.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: out + "/manifest.part-2-of-3.json"))
        #expect(try SynthProcess.run(["merge", out]).status == 0)
        #expect(try SynthProcess.run(["verify", out]).status == 0)
    }

    @Test func ganExampleRunsAsWritten() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let r = try Self.bash([Self.root + "/manifests/examples/gan-fmnist.sh"],
                              environment: ["PER_CLASS": "2", "SHARD_SIZE": "10", "THRESHOLD": "0", "TEST": "fashion-mnist:test@100", "CAS_STEPS": "2"],
                              in: dir.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("CAS accuracy"), "\(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir.file("data/gan-fmnist-preview.png")))
    }

    @Test func replayExampleRunsAsWritten() throws {
        let dir = ScratchDirectory(); defer { dir.cleanup() }
        let r = try Self.bash([Self.root + "/manifests/examples/replay-baseline.sh"],
                              environment: ["DATA": "fashion-mnist:train@200", "PER_CLASS": "2", "THRESHOLD": "0"], in: dir.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("data/fmnist-train/manifest.json")))
        #expect(r.stdout.contains("checks out"), "\(r.stdout)")
    }

    /// The value after `flag` in an argument list.
    static func value(of flag: String, in args: [String]) -> String? {
        args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    }

    /// Every flow-style list of strings (`KEY: ["a", "b", ...]`, possibly over several lines) in a
    /// YAML text: such a list is JSON.
    static func flowLists(after key: String, in yaml: String) throws -> [[String]] {
        var lists: [[String]] = []
        var rest = yaml[...]
        while let k = rest.range(of: key) {
            let from = rest[k.upperBound...]
            guard let open = from.firstIndex(of: "["), let close = from.firstIndex(of: "]") else { break }
            let json = Data(from[open...close].utf8)
            lists.append(try JSONDecoder().decode([String].self, from: json))
            rest = from[from.index(after: close)...]
        }
        return lists
    }

    /// bash ARGS in `cwd`, with the synth under test first on PATH and no job-array index inherited.
    static func bash(_ args: [String], environment extra: [String: String], in cwd: String) throws -> SynthProcess.Result {
        guard let binary = SynthProcess.binary else {
            Issue.record("the synth binary was not found next to the test bundle"); throw CancellationError()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var env = ProcessInfo.processInfo.environment
        for key in ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SYNTH_TEST_KILL_AT",
                    "OUT", "MODELS", "CLASSES", "PER_CLASS", "SHARD_SIZE", "THRESHOLD", "SEED", "FILTER", "DATA", "TEST", "CAS_STEPS"] {
            env.removeValue(forKey: key)
        }
        env["PATH"] = (binary as NSString).deletingLastPathComponent + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        env.merge(extra) { _, new in new }
        process.environment = env
        return try SynthProcess.collect(process)
    }
}
