#if canImport(Glibc)
    import Glibc
#endif

/// Optional timing of kernel families (off by default): benchmarks switch it on to split a step's
/// time into GEMMs, attention and the rest.
public final class KernelProfile: @unchecked Sendable {
    public var isEnabled = false
    private var totals: [String: Double] = [:]

    @inline(__always)
    func measure<T>(_ family: String, _ body: () -> T) -> T {
        guard isEnabled else { return body() }
        let start = KernelProfile.now()
        let result = body()
        totals[family, default: 0] += KernelProfile.now() - start
        return result
    }

    /// Seconds spent per family since the last `reset()`.
    public var seconds: [String: Double] { totals }
    public func reset() { totals = [:] }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
