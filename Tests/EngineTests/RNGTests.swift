import Testing
@testable import Engine
import Support

@Suite struct RNGTests {
    @Test func sameSeedSameStream() {
        var a = RNG(seed: 42), b = RNG(seed: 42), c = RNG(seed: 43)
        let xa = (0..<100).map { _ in a.next() }, xb = (0..<100).map { _ in b.next() }, xc = (0..<100).map { _ in c.next() }
        #expect(xa == xb)
        #expect(xa != xc)
    }

    @Test func intBelowCoversItsRangeEvenly() {
        var r = RNG(seed: 1)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 { counts[r.int(below: 10)] += 1 }
        // Each bin expects 10,000; 5 standard deviations is about 475.
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
        #expect((0..<1000).allSatisfy { _ in (0..<7).contains(r.int(below: 7)) })
    }

    @Test func permutationsAreShuffledAndSeeded() {
        var r = RNG(seed: 3)
        let p = r.permutation(1000), q = r.permutation(1000)
        #expect(p.sorted() == Array(0..<1000))
        #expect(p != q, "consecutive permutations differ")
        // A shuffle leaves few elements in place (expected 1) and is not a rotation.
        #expect(p.enumerated().filter { $0.offset == $0.element }.count < 10)
        let steps = Set(zip(p, p.dropFirst()).map { ($1 - $0 + 1000) % 1000 })
        #expect(steps.count > 100)
    }

    @Test func normalHasUnitMoments() {
        var r = RNG(seed: 4)
        let xs = (0..<200_000).map { _ in Double(r.normal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        #expect(abs(mean) < 0.01 && abs(variance - 1) < 0.02)
    }

    @Test func derivedSeedsDependOnEveryPart() {
        let base = RNG.derive(7, 1, 2)
        #expect(base == RNG.derive(7, 1, 2))
        #expect(base != RNG.derive(7, 2, 1) && base != RNG.derive(8, 1, 2) && base != RNG.derive(7, 1, 3))
    }
}
