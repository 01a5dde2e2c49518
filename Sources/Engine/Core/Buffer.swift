import Foundation

/// A flat, 64-byte aligned run of Float32 values.
///
/// Buffers come from and go back to `BufferPool`, so a training loop that allocates the same
/// activation shapes every step reuses the same memory instead of paging in fresh mmap'd blocks
/// (glibc hands large blocks back to the kernel, and re-faulting them costs more than the op).
public final class Buffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Uninitialised contents: callers overwrite every element, or use `zeroed`.
    public init(count: Int) {
        self.count = count
        self.pointer = BufferPool.shared.take(count)
    }

    public static func zeroed(_ count: Int) -> Buffer {
        let b = Buffer(count: count)
        b.pointer.initialize(repeating: 0, count: count)
        return b
    }

    deinit { BufferPool.shared.give(pointer, count: count) }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}

/// Free lists of aligned blocks keyed by element count.
///
/// Bounded by the peak working set of the program: a block is only created when no free block
/// of that size exists. `bytesCreated` lets tests prove that steady-state loops stop allocating.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var lock = pthread_mutex_t()
    public private(set) var bytesCreated = 0
    public private(set) var bytesFree = 0

    private init() { pthread_mutex_init(&lock, nil) }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
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

    func give(_ p: UnsafeMutablePointer<Float>, count: Int) {
        let n = max(count, 1)
        pthread_mutex_lock(&lock)
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
