import Foundation

/// A flat, 64-byte aligned run of Float32 values.
///
/// Buffers come from and go back to `BufferPool`, so a training loop that allocates the same
/// activation shapes every step reuses the same memory instead of paging in fresh mmap'd blocks
/// (glibc hands large blocks back to the kernel, and re-faulting them costs more than the op).
public final class Buffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    /// The pool the block goes back to (the one current when it was made).
    private let pool: BufferPool

    /// Uninitialised contents: callers overwrite every element, or use `zeroed`.
    public init(count: Int) {
        self.count = count
        self.pool = BufferPool.current
        self.pointer = pool.take(count)
    }

    public static func zeroed(_ count: Int) -> Buffer {
        let b = Buffer(count: count)
        b.pointer.initialize(repeating: 0, count: count)
        return b
    }

    deinit { pool.give(pointer, count: count) }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}

/// Free lists of aligned blocks keyed by size class.
///
/// A request is rounded up to its size class (multiples of 16 floats up to 64, then four classes
/// per doubling, so at most 25% is wasted). Classes matter when shapes vary: a build filters
/// candidate batches of every size from 1 to the batch size, and exact-size lists would keep a
/// new set of blocks for each size, growing without bound; with classes, nearby sizes share
/// blocks and the pool stays near the peak working set. A block is only created when no free
/// block of its class exists. `bytesCreated` lets tests prove that steady-state loops stop allocating.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    /// The pool new buffers come from: `shared`, unless a task binds its own. Tests that prove a
    /// loop stops allocating bind a private pool, so tests running alongside cannot take (or
    /// return) its blocks and make the count depend on timing.
    @TaskLocal public static var current: BufferPool = .shared

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var lock = pthread_mutex_t()
    public private(set) var bytesCreated = 0
    public private(set) var bytesFree = 0

    init() { pthread_mutex_init(&lock, nil) }

    deinit { trim(); pthread_mutex_destroy(&lock) }

    /// The capacity a request of `count` floats gets.
    static func sizeClass(_ count: Int) -> Int {
        if count <= 64 { return max(16, (count + 15) & ~15) }
        let base = 1 << (Int.bitWidth - 1 - (count - 1).leadingZeroBitCount)   // base < count <= 2 base
        let step = base / 4
        return (count + step - 1) / step * step
    }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = BufferPool.sizeClass(count)
        pthread_mutex_lock(&lock)
        if var list = free[n], let p = list.popLast() {
            free[n] = list
            bytesFree -= n * 4
            pthread_mutex_unlock(&lock)
            return p
        }
        bytesCreated += n * 4
        pthread_mutex_unlock(&lock)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride) == 0, let raw else {
            fatalError("out of memory allocating \(n) floats")
        }
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    /// Idle memory beyond this goes back to the system instead of the free lists: a safety net
    /// for programs whose shapes keep changing, far above any steady loop's working set.
    public static let maxIdleBytes = 2 << 30

    func give(_ p: UnsafeMutablePointer<Float>, count: Int) {
        let n = BufferPool.sizeClass(count)
        pthread_mutex_lock(&lock)
        if bytesFree + n * 4 > BufferPool.maxIdleBytes {
            bytesCreated -= n * 4
            pthread_mutex_unlock(&lock)
            Foundation.free(p)
            return
        }
        free[n, default: []].append(p)
        bytesFree += n * 4
        pthread_mutex_unlock(&lock)
    }

    /// Returns every idle block to the system (between phases that use different shapes).
    public func trim() {
        pthread_mutex_lock(&lock)
        for (n, list) in free {
            for p in list { Foundation.free(p); bytesCreated -= n * 4 }
        }
        free.removeAll()
        bytesFree = 0
        pthread_mutex_unlock(&lock)
    }
}
