import Dispatch
import Foundation

/// The engine's one level of threading, and its determinism contract.
///
/// OpenBLAS runs single-threaded and the engine splits work itself: convolutions split the batch
/// into sample groups, memory-bound loops split planes or ranges. Measured on ref-cnn training:
/// OpenBLAS's own threads spin in sched_yield between calls and fight the engine's loops for the
/// two cores (a third of all cycles), while single-threaded GEMMs on part of a batch each run at
/// the same FLOP rate with no waiting.
///
/// Determinism by construction: a caller cuts its problem into parts by the problem alone (batch
/// size, fixed chunk sizes; `part(_:of:items:)`), never by the core count. `forEach` then runs the
/// parts on however many threads there are. A part writes only its own outputs and its own partial
/// sums, which the caller adds in part order afterwards, so the number of threads, nesting and
/// which thread ran a part change no byte: the GEMM shapes and every sum's order are the same.
/// Nested loops run serially on the calling thread, so the two levels never stack.
public enum Parallel {
    /// Threads a parallel loop may use: the machine's cores, or SYNTH_THREADS (e.g. 1 for each of
    /// several workers sharing one machine). Changes the speed, never the result.
    public static let cores: Int = {
        if let s = ProcessInfo.processInfo.environment["SYNTH_THREADS"], let n = Int(s), n >= 1 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Threads for loops started in this task: `cores`, or what `withThreads` binds (tests run one
    /// computation on 1, 2 and 3 threads in one process to check that the bytes agree).
    @TaskLocal static var threadLimit: Int?
    static var threads: Int { threadLimit ?? cores }

    /// Runs body with parallel loops limited to `n` threads (at least 1).
    public static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        try $threadLimit.withValue(max(1, n), operation: body)
    }

    private static let depthKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// True on a thread that is already running a part of a parallel loop.
    static var isInside: Bool { pthread_getspecific(depthKey) != nil }

    /// How many threads `forEach(count, work:)` will run on: at most `threads`, 1 when nested, tiny
    /// (`work`, roughly the elements touched, does not pay for the hand-off) or a single part.
    /// Size per-thread scratch buffers with it; results must not depend on it.
    @inline(__always)
    public static func workers(_ count: Int, work: Int = .max) -> Int {
        count > 1 && work >= 1 << 15 && !isInside ? min(threads, count) : 1
    }

    /// Runs body(part, worker) for every part in 0..<count; `worker` (0..<workers(count, work:))
    /// names the thread's scratch, and no two parts run on one worker at once. Parts are dealt to
    /// workers in a fixed stride, but nothing may depend on that: a part's result is its own.
    @inline(__always)
    public static func forEach(_ count: Int, work: Int = .max, _ body: (_ part: Int, _ worker: Int) -> Void) {
        let w = workers(count, work: work)
        if w == 1 {
            for i in 0..<count { body(i, 0) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: w) { worker in
            pthread_setspecific(depthKey, UnsafeRawPointer(bitPattern: 1))
            for i in Swift.stride(from: worker, to: count, by: w) { body(i, worker) }
            pthread_setspecific(depthKey, nil)
        }
    }

    /// Runs body(part) for every part in 0..<count (see the other `forEach`).
    @inline(__always)
    public static func forEach(_ count: Int, work: Int = .max, _ body: (Int) -> Void) {
        forEach(count, work: work) { part, _ in body(part) }
    }

    /// [body(0), ..., body(count - 1)], the parts run as `forEach` runs them: the array is in part
    /// order whatever the number of threads. A body that can fail returns a `Result`, and the
    /// caller reports the first failure in part order.
    public static func map<T>(_ count: Int, work: Int = .max, _ body: (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { slots, initialized in
            let base = slots.baseAddress
            forEach(count, work: work) { part in (base! + part).initialize(to: body(part)) }
            initialized = count
        }
    }

    /// Part p of 0..<n cut into `parts` contiguous ranges whose sizes differ by at most one.
    @inline(__always)
    public static func part(_ p: Int, of parts: Int, items n: Int) -> Range<Int> {
        (p * n / parts)..<((p + 1) * n / parts)
    }

    /// Runs body(range) over 0..<n cut into ranges of `chunk` items (the last one shorter): the
    /// cut depends on n and chunk only.
    @inline(__always)
    public static func forEachChunk(_ n: Int, chunk: Int, work: Int = .max, _ body: (Range<Int>) -> Void) {
        let count = (n + chunk - 1) / chunk
        forEach(count, work: work) { i in body((i * chunk)..<min(n, (i + 1) * chunk)) }
    }
}
