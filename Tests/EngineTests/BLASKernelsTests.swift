@testable import Engine
import Foundation
import Testing

/// synth runs AVX2 kernels on an AVX2 CPU that OpenBLAS did not recognise, and never overrides a
/// core someone chose.
@Suite struct BLASKernelsTests {
    static let avx2: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f"]

    @Test func aFallbackOnAnAVX2CPUBecomesHaswell() {
        #expect(BLASKernels.replacement(current: "Prescott", cpuFlags: Self.avx2, environment: [:]) == "Haswell")
        #expect(BLASKernels.replacement(current: "Sandybridge", cpuFlags: Self.avx2, environment: [:]) == "Haswell")
    }

    @Test func vectorKernelsAChosenCoreOrAnOlderCPUAreKept() {
        for core in ["Haswell", "SkylakeX", "Cooperlake", "Zen", "SapphireRapids"] {
            #expect(BLASKernels.replacement(current: core, cpuFlags: Self.avx2, environment: [:]) == nil, "\(core)")
        }
        #expect(BLASKernels.replacement(current: "Prescott", cpuFlags: Self.avx2, environment: ["OPENBLAS_CORETYPE": "Prescott"]) == nil)
        #expect(BLASKernels.replacement(current: "Prescott", cpuFlags: ["sse3", "avx"], environment: [:]) == nil)
        #expect(BLASKernels.replacement(current: "Prescott", cpuFlags: ["avx2"], environment: [:]) == nil, "no FMA")
    }

    @Test func aChosenCoreTheCPUCannotRunIsNamed() {
        let avx2Only: Set<String> = ["sse3", "avx", "avx2", "fma"]
        let problem = BLASKernels.unrunnableChoice(environment: ["OPENBLAS_CORETYPE": "SkylakeX"], cpuFlags: avx2Only)
        #expect(problem?.contains("OPENBLAS_CORETYPE=SkylakeX needs avx512f") == true, "\(problem ?? "nil")")
        #expect(BLASKernels.unrunnableChoice(environment: ["OPENBLAS_CORETYPE": "haswell"], cpuFlags: ["sse3", "avx"])?
            .contains("needs avx2 and fma") == true)
        // Runnable, unknown to the check, unset, or flags unknown: nothing to say.
        #expect(BLASKernels.unrunnableChoice(environment: ["OPENBLAS_CORETYPE": "SkylakeX"], cpuFlags: Self.avx2) == nil)
        #expect(BLASKernels.unrunnableChoice(environment: ["OPENBLAS_CORETYPE": "Haswell"], cpuFlags: avx2Only) == nil)
        #expect(BLASKernels.unrunnableChoice(environment: ["OPENBLAS_CORETYPE": "Prescott"], cpuFlags: ["sse3"]) == nil)
        #expect(BLASKernels.unrunnableChoice(environment: [:], cpuFlags: avx2Only) == nil)
        #expect(BLASKernels.unrunnableChoice(environment: ["OPENBLAS_CORETYPE": "SkylakeX"], cpuFlags: []) == nil)
    }

    @Test func flagsAreReadFromCpuinfo() throws {
        let path = NSTemporaryDirectory() + "cpuinfo-\(UInt64.random(in: 0 ... .max))"
        try "processor\t: 0\nflags\t\t: fpu sse3 avx2 fma\nbugs\t\t: spectre\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(BLASKernels.cpuFlags(cpuinfo: path) == ["fpu", "sse3", "avx2", "fma"])
        #expect(BLASKernels.cpuFlags(cpuinfo: path + "-missing").isEmpty)
    }
}
