import Filter
import Foundation
import Shards
import Support

/// `synth build`'s flags, as given.
public struct BuildOptions: Sendable {
    public var source: String
    /// "N" (the first N classes) or a comma-separated list of class indices or names; nil = all.
    public var classes: String?
    public var perClass: Int
    public var out: String
    public var name: String?
    /// The filter's confidence threshold; nil: the source's default (`BuildDefaults.threshold`).
    public var threshold: Double?
    /// Candidates per class before giving up (default 20 * perClass).
    public var maxAttempts: Int?
    public var shardSize = 1000
    public var seed: UInt64 = 0
    public var classifier: String?
    public var filters: [String] = []
    public var noFilter = false
    /// --label-model: classifiers whose mean probabilities become each sample's soft label (probs)
    /// in place of the filter's; with --no-filter, the only soft label. Empty: a build with the
    /// default filter takes its source's default labels (`BuildDefaults.labelModels`), any other
    /// build the filter's probabilities (none with --no-filter).
    public var labelModels: [String] = []
    public var reconstructor: String?
    public var generators: [String] = []
    public var inputGenerator: String?
    public var sourceOptions: [String: String] = [:]
    /// Drop candidates that are near-copies of `nearCopyReal` (Filter's NearCopyRule).
    public var rejectNearCopies = false
    public var nearCopyReal = "fashion-mnist:train"
    public var nearCopyPixelRMS = NearCopyRule.defaultPixelRMS
    /// Also reject by the cosine of the first filter model's penultimate features.
    public var nearCopyCosine: Double?
    public var workers: Int?
    public var worker: Int?
    public var resume = false

    public init(source: String, perClass: Int, out: String) {
        self.source = source; self.perClass = perClass; self.out = out
    }

    /// The shard name: --name, else the output directory's base name.
    public var shardName: String {
        if let name { return name }
        var dir = out
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        return (dir as NSString).lastPathComponent
    }
}

/// Where the project's default models live: $SYNTH_MODELS_DIR; else ./models when it holds them;
/// else the models/ of the checkout the running binary was built in (.build/release/synth ->
/// ../../models), so `synth build` works from any directory.
public enum BuildDefaults {
    public static var modelsDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["SYNTH_MODELS_DIR"], !dir.isEmpty { return dir }
        let marker = "filter-resnet-s.safetensors"
        if Files.exists(Files.join("models", marker)) { return "models" }
        var dir = (Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().path ?? "") as NSString
        for _ in 0..<4 where dir.length > 1 {
            let candidate = dir.appendingPathComponent("models")
            if Files.exists(Files.join(candidate, marker)) { return candidate }
            dir = dir.deletingLastPathComponent as NSString
        }
        return "models"
    }

    /// The default filter: a classifier trained apart from the one a source was made with, so a
    /// sample must convince a second opinion. The GAN sources' is a different architecture
    /// (resnet-s). CaG's is a second ref-cnn (another seed, twice the epochs): the resnet-s judges
    /// CaG images by features their ref-cnn teacher never shaped, and refused every Sandal and
    /// Sneaker of sets a fresh ref-cnn learns those classes from at 70-93% (BENCHMARKS.md, "CaG
    /// sampler"; the measurements in bench/lab/HISTORY.md, "What the filter accepts"), so a
    /// filtered CaG build starved whole classes.
    public static func filterModel(source kind: String) -> String {
        Files.join(modelsDirectory, kind == "cag" ? cagFilterFile : ganFilterFile)
    }
    /// The default soft labels of a build with the default filter (empty: the filter's own
    /// probabilities). GAN and replay builds: the mean probabilities of every classifier the
    /// project ships trained on real data. CaG builds: the filter's own, because the resnet-s
    /// disagrees with most CaG images (it refuses whole classes of them, see `filterModel`) and
    /// its votes pull their labels away from the class (BENCHMARKS.md, "Soft labels").
    public static func labelModels(source kind: String) -> [String] {
        kind == "cag" ? [] : labelFiles.map { Files.join(modelsDirectory, $0) }
    }
    public static let labelFiles = ["filter-resnet-s.safetensors", "filter-ref-cnn.safetensors", "teacher-ref-cnn.safetensors"]

    /// What `--source gan` draws when its `--source-option`s do not say: every other sample blends
    /// its class with a second one (`GANSampling.classMix`). With the soft labels of the label
    /// models, blended samples are what a student learns the class boundaries from: with the lower
    /// filter threshold below they moved the default 10k build's CAS from 88.55% to 89.22% with
    /// soft labels and from 79.07% to 79.50% with hard ones (3 seeds each; BENCHMARKS.md, "Sampling
    /// and filtering the GAN build"). The library's GANSource keeps plain draws as its own default.
    public static func sourceSettings(source kind: String) -> [String: String] {
        kind == "gan" ? ["class_mix": "0.5"] : [:]
    }

    /// The filter's default confidence threshold: 0.9, and 0.5 for gan, whose blended samples the
    /// filter rarely gives 0.9 (at 0.9 the default 10k build ran out of Shirt and Coat candidates,
    /// 17% acceptance); 0.5 still asks that the class be the filter's first choice.
    public static func threshold(source kind: String) -> Double { kind == "gan" ? 0.5 : 0.9 }
    public static let ganFilterFile = "filter-resnet-s.safetensors"
    public static let cagFilterFile = "filter-ref-cnn.safetensors"
    /// The default feature model of commands not tied to a source (audit).
    public static var filterModel: String { filterModel(source: "gan") }
}

/// Which worker of how many this process is, from --workers/--worker or the job array's index
/// (JOB_COMPLETION_INDEX of a Kubernetes Indexed Job, SLURM_ARRAY_TASK_ID of a Slurm array,
/// which must then run 0..W-1).
public enum WorkerSelection {
    public static func resolve(workers: Int?, worker: Int?, environment: [String: String]) throws -> PartInfo? {
        guard let w = workers else {
            if worker != nil { throw SynthError("--worker needs --workers") }
            return nil
        }
        guard w >= 1 else { throw SynthError("--workers must be at least 1") }
        var index = worker
        var origin = "--worker"
        if index == nil {
            for variable in ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"] {
                if let text = environment[variable], !text.isEmpty {
                    guard let v = Int(text) else { throw SynthError("\(variable)='\(text)' is not a worker index") }
                    index = v
                    origin = variable
                    break
                }
            }
        }
        guard let i = index else {
            throw SynthError("--workers \(w) needs --worker I (or JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID)")
        }
        guard i >= 0 && i < w else { throw SynthError("\(origin) \(i) is outside 0..<\(w)") }
        return PartInfo(worker: i, workers: w)
    }
}

/// Parses --classes against the source's class names: "N" is the first N classes; otherwise a
/// comma-separated list of indices or names (a single index needs a trailing comma, "3,").
/// The result is sorted.
public enum ClassSelection {
    public static func parse(_ text: String?, classNames: [String], origin: String) throws -> [Int] {
        let k = classNames.count
        guard let text else { return Array(0..<k) }
        if let n = Int(text) {
            guard n >= 1 else { throw SynthError("--classes \(text): need at least one class") }
            guard n <= k else { throw SynthError("--classes \(n): \(origin) has only \(k) classes") }
            return Array(0..<n)
        }
        var picked: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let index: Int
            if let i = Int(item) {
                guard i >= 0 && i < k else { throw SynthError("--classes: class \(i) is outside 0..<\(k) (\(origin) has \(k) classes)") }
                index = i
            } else if let i = classNames.firstIndex(of: item) {
                index = i
            } else {
                throw SynthError("--classes: '\(item)' is not a class of \(origin) (\(classNames.joined(separator: ", ")))")
            }
            guard !picked.contains(index) else { throw SynthError("--classes: class \(index) given twice") }
            picked.append(index)
        }
        guard !picked.isEmpty else { throw SynthError("--classes '\(text)' names no class") }
        return picked.sorted()
    }
}
