import ArgumentParser
import Filter
import Foundation
import Pipeline
import Support
import Synth

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a dataset: source -> filter -> WebDataset shards + manifest.json.",
        discussion: """
        Sample i of the planned classes x per-class is of class classes[i mod C]; shard s holds samples s x shard-size up to (s+1) x shard-size. A class that runs out of --max-attempts leaves gaps (fewer samples; keys keep their planned index); such a short build writes its manifest, names the classes that fell short and exits 1 unless --allow-short (a worker's part and synth merge alike). Ctrl-C (exit 130) prints the command that resumes. The same flags and seed give byte-identical shards however the work is split or resumed.

        Examples:
          synth build --source cag --classes 10 --per-class 1000 --out data/cag
          synth build --source cag --classes Dress,Coat --per-class 500 \\
              --source-option noise=0.3 --source-option steps_per_stage=100 \\
              --out data/cag2
          synth build --source gan --generator models/gan-concat-s1.safetensors \\
              models/gan-concat-s2.safetensors --per-class 1000 --out data/gan
          synth build --source gan-latent --per-class 1000 --out data/latent \\
              --generator models/gan-uncond-s1.safetensors \\
              --input-generator models/gan-uncond-s1-input.safetensors
          synth build --source cag --per-class 1000 --out data/cag --resume
          synth build --source cag --per-class 1000 --out data/cag \\
              --workers 3 --worker 0
        The fifth continues an interrupted build; the last is one of three workers (run --worker 1 and 2 anywhere with the same flags, then synth merge data/cag; see deploy/ for Kubernetes and Slurm).

        --out - writes one uncompressed tar stream on stdout instead (nothing on disk, no manifest; progress and the summary on stderr): the members (K.cls, K.json, K.png) of the directory build with the same flags and seed, byte for byte, shard after shard in key order, each shard's as soon as its last class is done (--shard-size sets how often the stream moves), then one end-of-archive. --count N stops after the first N samples; --endless goes on past the plan with the shards a larger build would hold next (new seeds each) until the reader closes the pipe, which ends synth at once with exit 0. In Python: wds.WebDataset("pipe:synth build --source gan --classes 0,1,2,3,4 --per-class 1000 --seed 3 --out -").
          synth build --source gan --per-class 100 --out - | tar -tv | head
          synth build --source gan --per-class 100 --endless --shard-size 100 \\
              --out - | python train.py

        Sources: cag inverts a classifier (by default the shipped teacher-ref-cnn, through the reconstruction module cag-ref-recon); gan draws from class-conditional GANs (by default the four shipped gan-concat-s1..4); gan-latent steers an unconditional GAN with an input generator (gan-uncond-s1 and gan-uncond-s1-input); replay:SPEC draws real images of each class from a data spec by seed (a real-data baseline through the same filter). The default filter is filter-ref-cnn for cag (a second ref-cnn: the inverted classifier cannot judge its own images) and filter-resnet-s for the others. Default models come from SYNTH_MODELS_DIR, else ./models, else the models/ of the checkout synth was built in.

        Soft labels: each sample's json holds probs, what synth cas --soft trains on. With the default filter of gan, gan-latent and replay it is the mean probability vector of the shipped real-data classifiers (filter-resnet-s, filter-ref-cnn, teacher-ref-cnn); for cag, and with --filter, the filter's. --label-model M (repeatable) stores the mean of those models' probabilities of the stored pixels instead, filtered or not; acceptance stays the filter's:
          synth build --source gan --per-class 1000 --out data/gan-ens \\
              --label-model models/filter-resnet-s.safetensors \\
              --label-model models/filter-ref-cnn.safetensors

        gan settings, --source-option KEY=VALUE: latent_scale=S draws z from N(0, S^2 I) (default 1); class_mix=P blends, with probability P, a sample's class with a second one of the build's classes in the generator's conditional batch norms, its own weighing U[0.5, 1) (default 0.5). A blended sample keeps its class as its label, and its probs say what it looks like: with soft labels the blends are worth about a point of CAS, which is why gan's default filter threshold is 0.5. Plain draws, filtered as before:
          synth build --source gan --per-class 1000 --threshold 0.9 \\
              --source-option class_mix=0 --out data/gan-plain

        CaG settings, --source-option KEY=VALUE (repeatable; BENCHMARKS.md, "CaG sampler", measures what each buys):
        \(CaGConfig.settingsHelp())
        """
    )

    @Option(help: "Source: cag, gan, gan-latent (or replay:SPEC).") var source: String
    @Option(help: "Classes: N (the first N) or a comma-separated list of indices or names (one index: '3,').") var classes: String?
    // Numbers are parsed .unconditional so that "-5" reaches the range checks, which name the
    // flag, instead of being taken for an option ("Missing value").
    @Option(parsing: .unconditional, help: "Accepted samples per class.") var perClass: Int
    @Option(help: "Output directory (created; must be empty unless --resume), or - for a tar stream on stdout.") var out: String
    @Option(help: "Shard file prefix (default: the output directory's name).") var name: String?
    @Option(parsing: .unconditional, help: "Keep a candidate only if its class probability is above this (default 0.5 for gan, 0.9 otherwise).") var threshold: Double?
    @Option(parsing: .unconditional, help: "Candidates per class before giving up (default 20 * per-class).") var maxAttempts: Int?
    @Option(parsing: .unconditional, help: "Samples per shard. A DataLoader's workers each read whole shards: give a small dataset at least as many shards as workers.") var shardSize = 1000
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "The classifier the source inverts (CaG) or steers through (gan-latent).") var classifier: String?
    @Option(parsing: .singleValue, help: "Filter classifier (repeat for an ensemble; default models/filter-ref-cnn.safetensors for cag, models/filter-resnet-s.safetensors otherwise).") var filter: [String] = []
    @Flag(help: "Keep every candidate (no filter).") var noFilter = false
    @Option(parsing: .singleValue, help: "Classifier whose probabilities become each sample's soft label (json probs; repeat for an ensemble mean; works with --no-filter). Default: the shipped real-data classifiers for a GAN or replay source with the default filter, else the filter's own. Acceptance is still the filter's.") var labelModel: [String] = []
    @Option(help: "CaG's reconstruction module.") var reconstructor: String?
    @Option(parsing: .upToNextOption, help: "Generator checkpoint(s): --generator G1 G2 ... samples each image from one of them.") var generator: [String] = []
    @Option(help: "Input generator of a latent-conditioned GAN.") var inputGenerator: String?
    @OptionGroup var sourceOptions: SourceOptions
    @Flag(help: "Reject candidates that are near-copies of a real image (see synth audit; counted per class in the manifest).") var rejectNearCopies = false
    @Option(help: "The real images --reject-near-copies compares with.") var nearCopyReal = "fashion-mnist:train"
    @Option(parsing: .unconditional, help: "Near-copy if the RMS pixel difference ([0, 1] pixels) to the nearest real image is below this.") var nearCopyThreshold = NearCopyRule.defaultPixelRMS
    @Option(parsing: .unconditional, help: "Also near-copy if the cosine of the filter model's penultimate features to a real image is above this.") var nearCopyCosine: Double?
    @Option(parsing: .unconditional, help: "Split the build over W workers (each writes its shards and a part manifest; then synth merge).") var workers: Int?
    @Option(parsing: .unconditional, help: "This worker's index in 0..<W (default: JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID).") var worker: Int?
    @Flag(help: "Continue an interrupted build in --out: keep its complete shards, redo the rest.") var resume = false
    @Flag(help: "Accept a build that kept fewer samples than planned (exit 0; it still says which classes fell short).") var allowShort = false
    @Option(parsing: .unconditional, help: "With --out -: stop the stream after this many samples.") var count: Int?
    @Flag(help: "With --out -: go on past the plan, drawing new seeds, until the reader closes the pipe.") var endless = false
    @Flag(help: "Report progress in pipes too.") var verbose = false

    func run() throws {
        var o = BuildOptions(source: source, perClass: perClass, out: out)
        o.classes = classes; o.name = name; o.threshold = threshold; o.maxAttempts = maxAttempts
        o.shardSize = shardSize; o.seed = seed; o.classifier = classifier; o.filters = filter; o.noFilter = noFilter
        o.labelModels = labelModel
        o.reconstructor = reconstructor; o.generators = generator; o.inputGenerator = inputGenerator
        o.workers = workers; o.worker = worker; o.resume = resume
        o.rejectNearCopies = rejectNearCopies; o.nearCopyReal = nearCopyReal; o.nearCopyPixelRMS = nearCopyThreshold
        o.nearCopyCosine = nearCopyCosine
        o.sourceOptions = try sourceOptions.values()
        if out == "-" { return try stream(o) }
        if count != nil { throw SynthError("--count needs --out - (a stream); a directory build is sized by --per-class") }
        if endless { throw SynthError("--endless needs --out - (a stream)") }
        let runner = try BuildRunner(options: o, toolVersion: "synth \(SynthVersion.string)")
        Interruption.onSignal(resumeCommand: Interruption.currentCommand(adding: "--resume"))
        let line = ProgressLine(verbose: verbose)
        let summary = try runner.run { p in
            let eta = p.fraction > 0 ? p.elapsed * (1 - p.fraction) / p.fraction : .nan
            let pass = p.candidates > 0 ? 100 * Double(p.passed) / Double(p.candidates) : 0
            // Samples kept this run (the rate's count), not only those of finished shards: a
            // one-shard build showed "0 samples" until its end.
            line.emit(String(format: "shard %d/%d  %d samples kept  %@  pass %.1f%%  ETA %@", p.shardsDone, p.shardsTotal,
                             p.kept, ProgressLine.rate(p.kept, "sample", in: p.elapsed), pass, ProgressLine.duration(eta)))
        }
        line.emit("", final: true)
        let m = summary.manifest
        let what = summary.alreadyComplete ? "already complete" : "\(summary.shardsBuilt) built, \(summary.shardsResumed) kept"
        print("\(summary.manifestPath): \(m.numSamples) of \(counted(m.plannedSamplesOfShards, "planned sample")) in \(counted(m.shardlist.count, "shard")) (\(what))")
        try ShortBuild.check(m, path: summary.manifestPath, allowShort: allowShort)
    }
}

extension BuildCommand {
    /// `--out -`: the build as a tar stream on stdout (Pipeline/BuildStream.swift).
    func stream(_ o: BuildOptions) throws {
        if resume { throw SynthError("--resume does not apply to --out - (a stream keeps nothing to resume)") }
        if workers != nil || worker != nil { throw SynthError("--workers/--worker do not apply to --out - (one process writes the stream)") }
        if name != nil { throw SynthError("--name does not apply to --out - (a stream has no shard files)") }
        if allowShort { throw SynthError("--allow-short does not apply to --out - (a stream has no manifest; it ends with what was kept)") }
        if let count, count < 1 { throw SynthError("--count \(count): must be positive") }
        if isatty(STDOUT_FILENO) == 1 { throw SynthError("--out -: stdout is a terminal; pipe the tar stream into a reader or a file") }
        let streamer = try BuildStream(options: o, toolVersion: "synth \(SynthVersion.string)", endless: endless)
        if let count, !endless, count > streamer.plan.totalSamples {
            throw SynthError("--count \(count) is more than the plan's \(streamer.plan.totalSamples) samples (raise --per-class, or add --endless)")
        }
        ReaderWatch.endWhenClosed(STDOUT_FILENO)
        let line = ProgressLine(verbose: verbose)
        let summary = try streamer.write(to: STDOUT_FILENO, label: "stdout", count: count) { p in
            let pass = p.candidates > 0 ? 100 * Double(p.passed) / Double(p.candidates) : 0
            line.emit(String(format: "stream: %d samples written, %d kept  %@  pass %.1f%%", p.written, p.kept,
                             ProgressLine.rate(p.kept, "sample", in: p.elapsed), pass))
        }
        ReaderWatch.streamEnded()
        line.emit("", final: true)
        let what = count.map { "\(summary.samples) of \(counted($0, "sample"))" }
            ?? (endless ? "\(counted(summary.samples, "sample")) (endless)" : "\(summary.samples) of \(counted(streamer.plan.totalSamples, "planned sample"))")
        let end = summary.readerClosed ? "; the reader closed the stream" : ""
        FileHandle.standardError.write(Data("-: \(what) streamed from \(counted(summary.shards, "shard")) in \(String(format: "%.1f", summary.elapsed)) s\(end)\n".utf8))
    }
}

/// A stream's reader closing the pipe: SIGPIPE is ignored (a write then fails with EPIPE, which
/// the tar stream reports as TarStreamClosed), and since a shard can take a while to make before
/// the next write, a thread waits on the pipe and ends the process (exit 0) as soon as the reader
/// is gone. A stream keeps nothing on disk, so there is nothing to clean up.
enum ReaderWatch {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var ended = false

    /// The stream is complete: a reader closing it now (having read it all) ends nothing early.
    static func streamEnded() {
        lock.lock(); ended = true; lock.unlock()
    }

    static func endWhenClosed(_ fd: Int32) {
        signal(SIGPIPE, SIG_IGN)
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFIFO || (st.st_mode & S_IFMT) == S_IFSOCK else { return }
        let thread = Thread {
            var p = pollfd(fd: fd, events: 0, revents: 0)
            while true {
                // POLLERR on a pipe's write end: every reader has closed it.
                if poll(&p, 1, -1) > 0, p.revents & Int16(POLLERR | POLLHUP) != 0 {
                    lock.lock()
                    guard !ended else { lock.unlock(); return }
                    let text = Data(((isatty(STDERR_FILENO) == 1 ? "\n" : "") + "-: the reader closed the stream\n").utf8)
                    text.withUnsafeBytes { _ = Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
                    _exit(0)
                }
            }
        }
        thread.start()
    }
}
