import Dispatch
import Foundation

/// The engine's one level of threading.
///
/// OpenBLAS runs single-threaded and the engine splits work itself: convolutions split the batch
/// into one lane per core (each lane unfolds and multiplies its own samples), memory-bound loops
/// split planes. Measured on ref-cnn training: OpenBLAS's own threads spin in sched_yield between
/// calls and fight the engine's loops for the two cores (a third of all cycles), while
/// single-threaded GEMMs on half a batch each run at the same FLOP rate with no waiting.
/// Nested calls run serially on the calling lane, so the two levels never stack.
public enum Parallel {
    /// Lanes per parallel loop: the machine's cores, or SYNTH_THREADS (e.g. 1 for each of
    /// several workers sharing one machine).
    public static let cores: Int = {
        if let s = ProcessInfo.processInfo.environment["SYNTH_THREADS"], let n = Int(s), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Set once, before the first GEMM (every engine GEMM goes through `sgemm`).
    static let configured: Bool = {
        BLASThreads.set(1)
        return true
    }()

    private static let depthKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// True on a thread that is already running one lane of a parallel loop.
    static var isInside: Bool { pthread_getspecific(depthKey) != nil }

    /// Runs body(0..<count), spread over the cores when `work` (roughly, elements touched) pays
    /// for the hand-off and no enclosing loop is already parallel.
    @inline(__always)
    public static func forEach(_ count: Int, work: Int = .max, _ body: (Int) -> Void) {
        if count > 1 && work >= 1 << 15 && cores > 1 && !isInside {
            DispatchQueue.concurrentPerform(iterations: count) { i in
                pthread_setspecific(depthKey, UnsafeRawPointer(bitPattern: 1))
                body(i)
                pthread_setspecific(depthKey, nil)
            }
        } else {
            for i in 0..<count { body(i) }
        }
    }

    /// How many lanes a loop over `n` items should use: one per core, or 1 when nested or tiny.
    public static func lanes(_ n: Int) -> Int {
        isInside ? 1 : max(1, min(n, cores))
    }

    /// Splits 0..<n into `lanes` contiguous ranges and runs them concurrently.
    public static func inLanes(_ lanes: Int, items n: Int, _ body: (_ lane: Int, _ range: Range<Int>) -> Void) {
        if lanes <= 1 { body(0, 0..<n); return }
        forEach(lanes) { lane in body(lane, (lane * n / lanes)..<((lane + 1) * n / lanes)) }
    }
}
