import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Optional timing of kernel families (off by default): benchmarks switch it on to split a step's
/// time into GEMMs (by shape), attention, activations, normalisation, other element-wise work,
/// embedding rows, the loss and optimiser updates. Only the calls of the thread that switched it on
/// are booked (kernels are dispatched from the caller's thread), so other threads' work neither
/// counts nor races with the totals; a kernel called inside another is booked to the outer one.
public final class KernelProfile: @unchecked Sendable {
    /// One GEMM as the backend ran it: `batch` products of (M×K)·(K×N), A and B as stored
    /// (transposed or not); a product over a batch of rows with one weight is one GEMM of
    /// batch·rows rows.
    public struct GEMMShape: Hashable, Codable, Sendable {
        public let m: Int, k: Int, n: Int, batch: Int
        public let transA: Bool, transB: Bool

        public init(m: Int, k: Int, n: Int, batch: Int, transA: Bool, transB: Bool) {
            (self.m, self.k, self.n, self.batch, self.transA, self.transB) = (m, k, n, batch, transA, transB)
        }

        /// Floating-point operations of one call.
        public var flops: Double { 2 * Double(batch) * Double(m) * Double(k) * Double(n) }
    }

    /// Calls and seconds of one GEMM shape since the last `reset()`.
    public struct GEMMTotal: Sendable {
        public var calls = 0
        public var seconds = 0.0
        public init() {}
    }

    /// The thread that switched profiling on (0: off).
    private let owner = Atomic<UInt>(0)

    public var isEnabled: Bool {
        get { owner.load(ordering: .relaxed) == KernelProfile.currentThread }
        set { owner.store(newValue ? KernelProfile.currentThread : 0, ordering: .relaxed) }
    }

    private static var currentThread: UInt { UInt(bitPattern: Int(bitPattern: pthread_self())) }
    private var totals: [String: Double] = [:]
    private var gemmTotals: [GEMMShape: GEMMTotal] = [:]

    /// Depth of measured kernels running on the profiling thread.
    private var depth = 0

    @inline(__always)
    func measure<T>(_ family: String, _ body: () -> T) -> T {
        guard isEnabled && depth == 0 else { return body() }
        depth += 1
        let start = KernelProfile.now()
        let result = body()
        totals[family, default: 0] += KernelProfile.now() - start
        depth -= 1
        return result
    }

    /// Times a GEMM (family "gemm") and books it under the shape it reports.
    @inline(__always)
    func measureGEMM(_ body: () -> GEMMShape) {
        guard isEnabled && depth == 0 else {
            _ = body()
            return
        }
        let start = KernelProfile.now()
        let shape = body()
        let seconds = KernelProfile.now() - start
        totals["gemm", default: 0] += seconds
        gemmTotals[shape, default: GEMMTotal()].calls += 1
        gemmTotals[shape, default: GEMMTotal()].seconds += seconds
    }

    /// Seconds spent per family since the last `reset()`.
    public var seconds: [String: Double] { totals }
    /// Calls and seconds per GEMM shape since the last `reset()`.
    public var gemms: [GEMMShape: GEMMTotal] { gemmTotals }
    public func reset() {
        totals = [:]
        gemmTotals = [:]
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
