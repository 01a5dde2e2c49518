import Foundation

/// Deterministic crash points for the resume tests: with SYNTH_TEST_KILL_AT=POINT:N in the
/// environment the process sends itself SIGKILL at the N-th time it reaches POINT (no cleanup, no
/// flush: exactly what a killed build leaves). Test-only; without the variable it costs a lookup.
public enum TestCrash {
    private static let target: (point: String, count: Int)? = {
        guard let spec = ProcessInfo.processInfo.environment["SYNTH_TEST_KILL_AT"],
              let colon = spec.lastIndex(of: ":"), let n = Int(spec[spec.index(after: colon)...]), n > 0 else { return nil }
        return (String(spec[..<colon]), n)
    }()
    nonisolated(unsafe) private static var hits = 0
    private static let lock = NSLock()

    public static func point(_ name: String) {
        guard let target, target.point == name else { return }
        let reached = lock.withLock { hits += 1; return hits == target.count }
        if reached { kill(getpid(), SIGKILL) }
    }
}
