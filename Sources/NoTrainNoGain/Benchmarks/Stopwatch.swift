/// Timing helpers for benchmarks (monotonic clock; medians, since the machines are noisy).
public enum Stopwatch {
    /// Seconds taken by `body`.
    @inline(never)
    public static func time(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let d = clock.measure(body)
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Median of `repeats` timings after `warmup` untimed runs.
    public static func median(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
        return median((0..<max(repeats, 1)).map { _ in time(body) })
    }

    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }
}
