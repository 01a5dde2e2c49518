import Engine
import Support
import Foundation

/// Exhaustive nearest-neighbour search under squared L2 distance, by GEMM:
/// ||q - b||^2 = |q|^2 + |b|^2 - 2 q.b, the dot products of a block of queries against a block of
/// base rows in one sgemm. Blocks keep the scratch small (256 x 2048 floats per part) whatever
/// the sizes; parts (query blocks, or for a handful of queries runs of base blocks) are spread over
/// the cores, each with single-threaded GEMMs (the engine's one level of threading).
///
/// Distances from the identity carry float cancellation (about 1e-6 relative to |q|^2 + |b|^2);
/// callers that need exact distances recompute them for the winner.
public enum NearestNeighbours {
    public struct Result: Sendable {
        /// Index of the nearest base row of each query (ties: the lower index).
        public var index: [Int]
        /// Its squared distance from the identity, clamped at 0.
        public var distanceSquared: [Float]
    }

    static let queryBlock = 256, baseBlock = 2048
    /// Runs of base blocks a search with a single query block is cut into.
    static let maxBaseParts = 8

    /// Squared L2 norm of each of `count` rows of `dim` floats.
    public static func squaredNorms(_ rows: UnsafePointer<Float>, count: Int, dim: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            var s: Float = 0
            let r = rows + i * dim
            for j in 0..<dim { s += r[j] * r[j] }
            out[i] = s
        }
        return out
    }

    public static func search(queries: UnsafePointer<Float>, count m: Int, base: UnsafePointer<Float>, count n: Int,
                              dim: Int, baseNorms: UnsafePointer<Float>) -> Result {
        var index = [Int](repeating: -1, count: m)
        var best = [Float](repeating: .infinity, count: m)
        guard m > 0, n > 0 else { return Result(index: index, distanceSquared: best) }
        let queryNorms = squaredNorms(queries, count: m, dim: dim)
        // The work is cut on a grid fixed by the problem (blocks at multiples of queryBlock and
        // baseBlock), so every GEMM has the same shape on any number of threads (see `Parallel`).
        let queryBlocks = (m + queryBlock - 1) / queryBlock
        if queryBlocks >= 2 {
            // Enough queries: each part owns one block of them and scans the whole base.
            index.withUnsafeMutableBufferPointer { idx in
                best.withUnsafeMutableBufferPointer { bst in
                    queryNorms.withUnsafeBufferPointer { qn in
                        let (ip, bp, qp) = (idx.baseAddress!, bst.baseAddress!, qn.baseAddress!)
                        Parallel.forEach(queryBlocks) { block in
                            let rows = (block * queryBlock)..<min(m, (block + 1) * queryBlock)
                            scan(queries: queries, queryNorms: qp, rows: rows, base: base, baseNorms: baseNorms,
                                 baseRows: 0..<n, dim: dim, bestIndex: ip, bestD2: bp)
                        }
                    }
                }
            }
        } else {
            // A few queries against many rows: each part scans a run of base blocks; minima merged after.
            let baseBlocks = (n + baseBlock - 1) / baseBlock, parts = min(baseBlocks, maxBaseParts)
            let slots = (0..<parts).map { _ in (UnsafeMutablePointer<Int>.allocate(capacity: m), UnsafeMutablePointer<Float>.allocate(capacity: m)) }
            defer { for (a, b) in slots { a.deallocate(); b.deallocate() } }
            for (a, b) in slots { a.initialize(repeating: -1, count: m); b.initialize(repeating: .infinity, count: m) }
            queryNorms.withUnsafeBufferPointer { qn in
                let qp = qn.baseAddress!
                Parallel.forEach(parts, work: m * n * dim) { part in
                    let blocks = Parallel.part(part, of: parts, items: baseBlocks)
                    let rows = (blocks.lowerBound * baseBlock)..<min(n, blocks.upperBound * baseBlock)
                    scan(queries: queries, queryNorms: qp, rows: 0..<m, base: base, baseNorms: baseNorms,
                         baseRows: rows, dim: dim, bestIndex: slots[part].0, bestD2: slots[part].1)
                }
            }
            // Parts hold ascending base ranges, so taking strictly smaller keeps the lower index on ties.
            for (ip, dp) in slots {
                for i in 0..<m where dp[i] < best[i] {
                    best[i] = dp[i]; index[i] = ip[i]
                }
            }
        }
        for i in 0..<m { best[i] = max(best[i], 0) }
        return Result(index: index, distanceSquared: best)
    }

    /// Updates bestIndex/bestD2 of query rows `rows` with base rows `baseRows`.
    private static func scan(queries: UnsafePointer<Float>, queryNorms: UnsafePointer<Float>, rows: Range<Int>,
                             base: UnsafePointer<Float>, baseNorms: UnsafePointer<Float>, baseRows: Range<Int>, dim: Int,
                             bestIndex: UnsafeMutablePointer<Int>, bestD2: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty, !baseRows.isEmpty else { return }
        let scratch = Buffer(count: queryBlock * baseBlock)
        let g = scratch.pointer
        var q0 = rows.lowerBound
        while q0 < rows.upperBound {
            let qn = min(queryBlock, rows.upperBound - q0)
            var b0 = baseRows.lowerBound
            while b0 < baseRows.upperBound {
                let bn = min(baseBlock, baseRows.upperBound - b0)
                // G = Q_block * B_block^T
                sgemm(transB: true, m: qn, n: bn, k: dim, a: queries + q0 * dim, b: base + b0 * dim, c: g)
                for r in 0..<qn {
                    let row = g + r * bn
                    let qnorm = queryNorms[q0 + r]
                    var bestD = bestD2[q0 + r], bestJ = -1
                    for j in 0..<bn {
                        let d = qnorm + baseNorms[b0 + j] - 2 * row[j]
                        if d < bestD { bestD = d; bestJ = j }
                    }
                    if bestJ >= 0 { bestD2[q0 + r] = bestD; bestIndex[q0 + r] = b0 + bestJ }
                }
                b0 += bn
            }
            q0 += qn
        }
    }
}
