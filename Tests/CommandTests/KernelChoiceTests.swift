import Engine
import Foundation
import Testing

/// The synth binary runs AVX2 kernels on an AVX2 CPU even where OpenBLAS does not know the CPU,
/// and keeps whatever OPENBLAS_CORETYPE the environment sets (CI's and the tests' included).
@Suite struct KernelChoiceTests {
    @Test func synthRunsVectorKernelsOrTheChosenCore() throws {
        // OpenBLAS names the core it loads with on stderr at OPENBLAS_VERBOSE=2, once per exec.
        let r = try SynthProcess.run(["--version"], environment: ["OPENBLAS_VERBOSE": "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let cores = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Core: ") }.map { String($0.dropFirst(6)) }
        let last = try #require(cores.last, "OpenBLAS printed no core: \(r.stderr)")
        if let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            #expect(cores.count == 1 && last.lowercased() == chosen.lowercased(), "\(cores) with OPENBLAS_CORETYPE=\(chosen)")
        } else {
            let flags = BLASKernels.cpuFlags()
            let expected = BLASKernels.replacement(current: cores[0], cpuFlags: flags, environment: [:])
            #expect(cores.count == (expected == nil ? 1 : 2), "\(cores)")
            if let expected { #expect(last == expected) }
        }
    }

    /// A core the CPU cannot run (AVX-512 kernels on a CPU without AVX-512) is refused in one line
    /// with exit 2 before any GEMM, instead of an illegal instruction. Runs where the CPU lacks
    /// avx512f (AMD EPYC machines of this project's kind), else there is no such core to choose.
    @Test(.enabled(if: !BLASKernels.cpuFlags().isEmpty && !BLASKernels.cpuFlags().contains("avx512f")))
    func aCoreTheCPUCannotRunIsRefused() throws {
        let r = try SynthProcess.run(["eval", "--model", "none.safetensors", "--data", "fashion-mnist:test"],
                                     environment: ["OPENBLAS_CORETYPE": "SkylakeX"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr == "synth: OPENBLAS_CORETYPE=SkylakeX needs avx512f, which this CPU lacks: unset it or choose a core the CPU runs (Haswell needs avx2 and fma)\n", "\(r.stderr)")
    }
}
