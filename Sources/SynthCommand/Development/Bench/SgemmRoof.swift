import Engine
import Foundation
import Support

/// The rate a benchmark's GEMM work is read against: single-threaded sgemms of one shape run on
/// every core at once (the engine's own way of using OpenBLAS, see `BLASThreads`), timed in the
/// process that runs the benchmark, so both see the same kernels and the same load.
public struct SgemmRoof: Sendable {
    public let m: Int, n: Int, k: Int
    /// GEMMs running at once (one per core, `Parallel.cores`).
    public let threads: Int
    /// Floating-point operations per second summed over the threads, in GFLOP/s.
    public let gflops: Double

    /// Times `m x k` by `k x n` products for about `seconds` on every core; the first product on
    /// each thread (packing, page faults) is not counted.
    public static func measure(m: Int, n: Int, k: Int, seconds: Double = 0.4) -> SgemmRoof {
        let threads = Parallel.cores
        let aSize = m * k, bSize = k * n, cSize = m * n
        let a = Buffer.zeroed(threads * aSize), b = Buffer.zeroed(threads * bSize), c = Buffer.zeroed(threads * cSize)
        for i in 0..<(threads * aSize) { a.pointer[i] = Float(i % 7) * 0.125 }
        for i in 0..<(threads * bSize) { b.pointer[i] = Float(i % 5) * 0.25 }
        func product(_ t: Int) {
            let pa: UnsafePointer<Float> = UnsafePointer(a.pointer + t * aSize)
            let pb: UnsafePointer<Float> = UnsafePointer(b.pointer + t * bSize)
            let pc: UnsafeMutablePointer<Float> = c.pointer + t * cSize
            sgemm(m: m, n: n, k: k, a: pa, b: pb, c: pc)
        }
        let once = Date()
        withExtendedLifetime((a, b, c)) { Parallel.forEach(threads) { t in product(t) } }
        let flop = 2.0 * Double(m * n * k)
        let first: Double = Date().timeIntervalSince(once)
        let reps = max(4, Int(seconds / max(first, 1e-6)))
        let start = Date()
        withExtendedLifetime((a, b, c)) {
            Parallel.forEach(threads) { t in for _ in 0..<reps { product(t) } }
        }
        let dt = Date().timeIntervalSince(start)
        let total: Double = flop * Double(reps * threads)
        return SgemmRoof(m: m, n: n, k: k, threads: threads, gflops: total / dt / 1e9)
    }

    /// "<rate> GFLOP/s of GEMM work, <p>% of the sgemm roof (<roof> GFLOP/s, MxNxK on T threads)".
    public func describe(flops: Int, seconds: Double) -> String {
        let rate: Double = Double(flops) / seconds / 1e9
        let share: Double = 100 * rate / gflops
        return String(format: "%.1f GFLOP/s of GEMM work, %.0f%% of the sgemm roof (%.1f GFLOP/s: %dx%dx%d on %d threads)",
                      rate, share, gflops, m, n, k, threads)
    }
}
