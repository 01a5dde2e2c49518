import CBLAS
import Synchronization

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, with op(A) m x k,
/// op(B) k x n. Leading dimensions default to the packed ones.
@inline(__always)
public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                  b: UnsafePointer<Float>, ldb: Int? = nil,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let ldc = ldc ?? n
    _ = BLASThreads.configured
    GEMMCount.add(2 * m * n * k)
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

public enum BLASThreads {
    /// OpenBLAS's own thread pool size (synth keeps it at 1, see `configured`).
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    public static var current: Int { Int(openblas_get_num_threads()) }

    /// OpenBLAS runs single-threaded: the engine's `Parallel` is the one level of threading (its
    /// comment says why). Set once, before the first GEMM (every engine GEMM goes through `sgemm`).
    static let configured: Bool = {
        set(1)
        return true
    }()
}

/// The floating-point operations of every GEMM run so far (2mnk each), for the benchmarks'
/// achieved GFLOP/s: they read it before and after their workload.
public enum GEMMCount {
    private static let total = Atomic<Int>(0)
    public static var flops: Int { total.load(ordering: .relaxed) }
    @inline(__always)
    static func add(_ n: Int) { total.add(n, ordering: .relaxed) }
}
