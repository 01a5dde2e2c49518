/// Seeded, deterministic random numbers (xoshiro256**), identical on every run and machine.
///
/// Streams that must not depend on how work is split (per-sample seeds of a sharded build) are
/// derived with `RNG.derive(seed, ...)`, a SplitMix64 hash of the seed and the indices.
public struct RNG: Sendable {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var sm = seed
        s0 = RNG.splitMix(&sm); s1 = RNG.splitMix(&sm); s2 = RNG.splitMix(&sm); s3 = RNG.splitMix(&sm)
    }

    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed for an independent stream identified by `parts` (e.g. base seed, class, sample index).
    public static func derive(_ seed: UInt64, _ parts: UInt64...) -> UInt64 {
        var x = seed
        var h = splitMix(&x)
        for p in parts {
            var y = h ^ (p &* 0xD6E8_FEB8_6659_FD93)
            h = splitMix(&y)
        }
        return h
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in 0..<n (Lemire's multiply-shift on 32 random bits; n far below 2^32).
    /// The parentheses matter: Swift ranks `>>` above `&*`.
    public mutating func int(below n: Int) -> Int {
        Int(((next() >> 32) &* UInt64(n)) >> 32)
    }

    /// Standard normal (Box-Muller; the second value of each pair is kept for the next call).
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        var u1 = uniform()
        while u1 <= 1e-7 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * logf(u1)).squareRoot()
        let a = 2 * Float.pi * u2
        spareNormal = r * sinf(a)
        return r * cosf(a)
    }

    /// A uniformly random permutation of 0..<n (Fisher-Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) {
            p.swapAt(i, int(below: i + 1))
        }
        return p
    }

    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, mean: Float = 0, std: Float = 1) {
        for i in 0..<count { p[i] = mean + std * normal() }
    }

    public mutating func fillUniform(_ p: UnsafeMutablePointer<Float>, count: Int, low: Float = 0, high: Float = 1) {
        for i in 0..<count { p[i] = low + (high - low) * uniform() }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
