import CBLAS
import Support
import Foundation

/// Which OpenBLAS kernels synth runs on.
///
/// OpenBLAS picks its kernels per CPU when it loads. A build older than the CPU does not know it
/// and falls back to its oldest x86-64 kernels: Debian 12's OpenBLAS 0.3.21 on a Sapphire Rapids
/// Xeon picks "Prescott" (SSE3), and a ref-cnn epoch then takes 2.4x as long as with the AVX2
/// kernels the CPU runs (BENCHMARKS.md). When OPENBLAS_CORETYPE is unset, synth checks the pick
/// at start and, on a CPU with AVX2 and FMA that got pre-AVX2 kernels, runs itself again with
/// OPENBLAS_CORETYPE=Haswell (the AVX2 kernels, valid on every AVX2 CPU). A set
/// OPENBLAS_CORETYPE is always respected. The bytes a computation gives depend on the kernels,
/// as on any machine (README, determinism).
public enum BLASKernels {
    /// The kernel family OpenBLAS is running, as it names it ("Haswell", "SkylakeX", ...).
    public static var current: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS core names whose kernels use AVX2 and FMA (or AVX-512) on x86-64.
    static var vectorCores: Set<String> { Set(requiredFlags.keys) }

    /// The core to run instead of `current`, or nil to keep it: Haswell when the CPU's flags hold
    /// avx2 and fma, OpenBLAS fell back to older kernels, and nobody chose a core.
    public static func replacement(current: String, cpuFlags: Set<String>, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        guard cpuFlags.contains("avx2") && cpuFlags.contains("fma") else { return nil }
        return vectorCores.contains(current.lowercased()) ? nil : "Haswell"
    }

    /// The instructions each vector core's kernels need; other cores run on any x86-64 synth
    /// builds for.
    static let requiredFlags: [String: [String]] = [
        "haswell": ["avx2", "fma"], "zen": ["avx2", "fma"],
        "skylakex": ["avx512f"], "cooperlake": ["avx512f"], "sapphirerapids": ["avx512f"],
    ]

    /// Why the core OPENBLAS_CORETYPE chooses cannot run on this CPU, or nil when it can (or the
    /// CPU's flags are unknown): OpenBLAS loads such a core without complaint and dies of an
    /// illegal instruction at the first GEMM (SkylakeX on an AVX2-only EPYC).
    public static func unrunnableChoice(environment: [String: String], cpuFlags: Set<String>) -> String? {
        guard let chosen = environment["OPENBLAS_CORETYPE"], !cpuFlags.isEmpty,
              let needed = requiredFlags[chosen.lowercased()] else { return nil }
        let missing = needed.filter { !cpuFlags.contains($0) }
        guard !missing.isEmpty else { return nil }
        return "OPENBLAS_CORETYPE=\(chosen) needs \(missing.joined(separator: " and ")), which this CPU lacks: unset it or choose a core the CPU runs (Haswell needs avx2 and fma)"
    }

    /// The CPU's feature flags from /proc/cpuinfo (empty where there is none).
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Called first thing by the command line: replaces the process with itself under
    /// OPENBLAS_CORETYPE=<replacement> when `replacement` says so. Returns when nothing is to be
    /// done or the exec failed (then the run goes on with the kernels it has). Throws when the
    /// chosen core cannot run on this CPU (`unrunnableChoice`).
    public static func upgradeProcessIfNeeded() throws {
        let environment = ProcessInfo.processInfo.environment
        if environment["OPENBLAS_CORETYPE"] != nil {
            if let problem = unrunnableChoice(environment: environment, cpuFlags: cpuFlags()) { throw SynthError(problem) }
            return
        }
        guard let core = replacement(current: current, cpuFlags: cpuFlags(), environment: environment) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
    }
}
