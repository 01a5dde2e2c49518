import Testing
@testable import Engine

@Suite("RNG")
struct RNGTests {
    @Test("int(below:) covers 0..<n evenly")
    func intBelow() {
        var rng = RNG(seed: 1)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<10_000 { counts[rng.int(below: 10)] += 1 }
        #expect(counts.allSatisfy { $0 > 900 && $0 < 1100 }, "\(counts)")
    }

    @Test("permutation is a permutation and is shuffled")
    func permutation() {
        var rng = RNG(seed: 2)
        let p = rng.permutation(100)
        #expect(p.sorted() == Array(0..<100))
        let q = rng.permutation(100)
        #expect(p != q)
        // A fixed point count near 1 (a uniform permutation has 1 on average), not ~0 or 100.
        #expect(p.enumerated().filter { $0.offset == $0.element }.count < 10)
    }
}
